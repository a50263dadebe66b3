{{/* Names, labels and derived values shared by every template. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "rtgw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name prefix of every object: fullnameOverride, else <release>-<name> (just <release> when it already
contains the name). Truncated to leave room for suffixes such as "-operator" within DNS label limits.
*/}}
{{- define "rtgw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* helm.sh/chart value: <name>-<version>, with "+" made label-safe. */}}
{{- define "rtgw.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of an object of one component (operator, redis, example): include "rtgw.labels" (list . "operator").
app.kubernetes.io/name carries the component ("realtime-gateway-operator"): the gateway pods the operator creates
are selected by name=realtime-gateway plus instance=<RealtimeGateway name>, and a RealtimeGateway named like the
release must not select the operator's or Redis's pods.
*/}}
{{- define "rtgw.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ include "rtgw.chart" $root }}
{{ include "rtgw.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: realtime-gateway
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of a component (stable across upgrades: never add version labels here). */}}
{{- define "rtgw.selectorLabels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ printf "%s-%s" (include "rtgw.name" $root) $component | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ $component }}
{{- end }}

{{- define "rtgw.operator.fullname" -}}
{{- printf "%s-operator" (include "rtgw.fullname" .) }}
{{- end }}

{{- define "rtgw.redis.fullname" -}}
{{- printf "%s-redis" (include "rtgw.fullname" .) }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "rtgw.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "rtgw.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "rtgw.image" -}}
{{- $image := index . 0 }}
{{- $root := index . 1 }}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}

{{/* Leader election is on whenever more than one operator replica runs. */}}
{{- define "rtgw.operator.leaderElection" -}}
{{- if gt (int .Values.operator.replicas) 1 }}true{{ else }}false{{ end }}
{{- end }}

{{/* The URL of the quick-start Redis Service. */}}
{{- define "rtgw.redis.url" -}}
{{- printf "redis://%s.%s.svc:6379" (include "rtgw.redis.fullname" .) .Release.Namespace }}
{{- end }}

{{/*
At most one Redis source: the quick-start (redis.enabled), redis.url, or redis.existingSecret.name; the example
needs exactly one. Fails the render with a message naming the values otherwise.
*/}}
{{- define "rtgw.redis.validate" -}}
{{- $sources := 0 }}
{{- if .Values.redis.enabled }}{{ $sources = add1 $sources }}{{ end }}
{{- if .Values.redis.url }}{{ $sources = add1 $sources }}{{ end }}
{{- if .Values.redis.existingSecret.name }}{{ $sources = add1 $sources }}{{ end }}
{{- if gt (int $sources) 1 }}
{{- fail "redis: set only one of redis.enabled (quick-start Redis), redis.url, or redis.existingSecret.name" }}
{{- end }}
{{- if and .Values.example.enabled (eq (int $sources) 0) }}
{{- fail "example.enabled needs a Redis: set redis.enabled=true, redis.url, or redis.existingSecret.name" }}
{{- end }}
{{- end }}

{{/* The example's JWT Secret name. */}}
{{- define "rtgw.example.jwtSecretName" -}}
{{- default (printf "%s-%s-jwt" (include "rtgw.fullname" .) .Values.example.name) .Values.example.jwt.existingSecret }}
{{- end }}

{{/*
The operator's permissions on the resources it manages, in whatever namespaces it watches: exactly
the API calls the operator makes less the Lease rule below; test/dev-cluster/rbac-rules.test.ts shows each is needed.
*/}}
{{- define "rtgw.operator.rules" -}}
# The RealtimeGateway: informer, status writes, and the autoscaler's scale writes.
- apiGroups: ["rtgw.dev"]
  resources: ["realtimegateways"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["rtgw.dev"]
  resources: ["realtimegateways/status", "realtimegateways/scale"]
  verbs: ["get", "update", "patch"]
# Owned objects: informers and server-side apply (create is what applying a new object needs). Deletion is left
# to the garbage collector through owner references, so no delete verb, but for the objects a spec change can make
# obsolete (operator/src/render/index.ts optionalObjects), one rule each below: the config-file ConfigMap once
# spec.namespaces/proxy are gone, the NetworkPolicy once switched off, the Ingress once spec.ingress is gone.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies", "ingresses"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["delete"]
# Secrets: read by name only (no list, no watch); the reconciler creates the admin-key Secret; the autoscaler reads it.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create"]
# Pods: the autoscaler finds gateway pods to scrape and sets their pod-deletion-cost annotation.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* Leader election: the operator's Lease, in the release namespace only. */}}
{{- define "rtgw.operator.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end }}
