// Free TCP ports on loopback for tests that start servers: the dev cluster's own helper (racy by nature: the port
// was free a moment ago; good enough for tests).
export { freePort } from "../dev-cluster/ports.js";
