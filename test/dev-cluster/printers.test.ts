// The Table printers' pure parts: kubectl's HumanDuration, the JSONPath subset of printer columns, and which
// Accept headers ask for a Table.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { humanDuration, jsonPath, wantsTable } from "../../dev-cluster/apiserver/printers.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("printers", () => {
  test("humanDuration rounds like kubectl's duration.HumanDuration", () => {
    const cases: [number, string][] = [
      [-5 * S, "<invalid>"],
      [-500, "0s"],
      [0, "0s"],
      [119 * S, "119s"],
      [2 * M, "2m"],
      [9 * M + 59 * S, "9m59s"],
      [10 * M + 30 * S, "10m"],
      [179 * M, "179m"],
      [3 * H, "3h"],
      [7 * H + 59 * M, "7h59m"],
      [47 * H, "47h"],
      [2 * D, "2d"],
      [7 * D + 23 * H, "7d23h"],
      [8 * D, "8d"],
      [729 * D, "729d"],
      [3 * 365 * D + 10 * D, "3y10d"],
      [9 * 365 * D, "9y"],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
  });

  test("jsonPath reads fields, indexes and equality filters", () => {
    const o = {
      spec: { replicas: 3 },
      status: {
        conditions: [
          { type: "Scaling", status: "False" },
          { type: "Ready", status: "True" },
        ],
      },
    };
    assert.equal(jsonPath(o, ".spec.replicas"), 3);
    assert.equal(jsonPath(o, ".status.conditions[1].type"), "Ready");
    assert.equal(jsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), "True");
    assert.equal(jsonPath(o, ".status.connections"), undefined);
    assert.equal(jsonPath(o, ".spec.replicas.nope"), undefined);
  });

  test("a Table only when the Accept header asks for meta.k8s.io's", () => {
    const kubectl =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    assert.equal(wantsTable(kubectl), "v1");
    assert.equal(wantsTable("application/json;as=Table;v=v1beta1;g=meta.k8s.io"), "v1beta1");
    assert.equal(wantsTable("application/json"), undefined);
    assert.equal(wantsTable(undefined), undefined);
    assert.equal(wantsTable("application/json;as=Table;v=v1;g=example.com"), undefined);
  });
});
