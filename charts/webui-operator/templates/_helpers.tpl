{{/*
Names. Kubernetes names are limited to 63 characters (DNS-1123 labels), so every name is truncated
there, and the trailing "-" a cut can leave is trimmed.
*/}}
{{- define "webui-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webui-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "webui-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webui-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "webui-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "ERROR: serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries (Helm's recommended set plus commonLabels), without a component. */}}
{{- define "webui-operator.baseLabels" -}}
helm.sh/chart: {{ include "webui-operator.chart" . }}
app.kubernetes.io/name: {{ include "webui-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: webui-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of the operator's own objects. */}}
{{- define "webui-operator.labels" -}}
{{ include "webui-operator.baseLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator pods' selector. Never change it: Deployment selectors are immutable. */}}
{{- define "webui-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webui-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/*
An image reference. Called with a dict: (dict "image" .Values.image "default" .Chart.AppVersion) so the
caller states which block it reads; a digest wins over the tag.
*/}}
{{- define "webui-operator.image" -}}
{{- $tag := default .default .image.tag -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The namespaces the operator watches, as a list: empty in cluster scope (meaning all namespaces),
watchNamespaces or else the release namespace in namespace scope.
*/}}
{{- define "webui-operator.watchNamespaces" -}}
{{- if eq .Values.scope "namespace" -}}
{{- if .Values.watchNamespaces -}}
{{- toJson (uniq .Values.watchNamespaces) -}}
{{- else -}}
{{- toJson (list .Release.Namespace) -}}
{{- end -}}
{{- else -}}
{{- if .Values.watchNamespaces -}}
{{- fail "ERROR: watchNamespaces only applies with scope: namespace (scope: cluster watches every namespace)" -}}
{{- end -}}
{{- toJson (list) -}}
{{- end -}}
{{- end -}}

{{/*
The permissions the operator's reconciler needs in each namespace it watches, and no more, read off its
API calls (operator/src/controller/kube-api.ts, reconcile.ts): informers list+watch the WebUIs and the
owned kinds; before its first apply a child missing from the cache is read (get), so the operator never
takes over a same-named object it did not create; children are server-side applied (patch, plus create
for the first apply; a Deployment's switch to Recreate is a merge patch); the generated secret key and
referenced Secrets are read (get); turning spec.ingress off deletes the Ingress (delete, with a uid
precondition); status is a server-side apply patch on webuis/status; Events are created; the pods of
the WebUIs' Deployments are watched (list, watch; never written) so status can say why they do not come
up (image pulls, crash loops, scheduling).
Secrets: the one Secret the operator makes (the generated session key) is created once and never
written again (CREATE_ONLY_KINDS), so there is no patch, update or delete on Secrets: the operator cannot
change any existing Secret. Reads cannot be narrowed further: RBAC has no label selectors, and the
names a WebUI references are not known here (resourceNames); the watch of Secrets it does not own is
metadata-only, so their values are not held in memory.
test/chart/rbac.int.test.ts runs the real operator with exactly these rules and shows from the audit log
that every verb granted here is used and nothing used is ungranted, and that it does not converge
without create on secrets or delete on ingresses.
*/}}
{{- define "webui-operator.rules" -}}
- apiGroups: ["webui.dev"]
  resources: ["webuis"]
  verbs: ["list", "watch"]
- apiGroups: ["webui.dev"]
  resources: ["webuis/status"]
  verbs: ["patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["services", "persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{/*
The seed ConfigMap that holds the chart's WebUI (templates/webui-seed.yaml). The WebUI's name is part
of it: renaming the WebUI renders a new seed, Helm deletes the old one, and the garbage collector the
old WebUI with it, as when Helm deleted a renamed WebUI itself.
*/}}
{{- define "webui-operator.seedName" -}}
{{- printf "%s-webui-%s" (include "webui-operator.fullname" .) .Values.webui.name -}}
{{- end -}}

{{/*
The WebUI manifest in the seed, as JSON. The labels are the chart's, but managed-by names the operator,
which applies the WebUI; app.kubernetes.io/instance also lets the operator adopt a WebUI that an earlier
version of this chart created for the same release.
*/}}
{{- define "webui-operator.seedWebui" -}}
{{- $labels := omit (include "webui-operator.baseLabels" . | fromYaml) "app.kubernetes.io/managed-by" -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" "webui-operator" -}}
{{- $_ = set $labels "app.kubernetes.io/component" "webui" -}}
{{- $metadata := dict "name" .Values.webui.name "namespace" .Release.Namespace "labels" $labels -}}
{{- with .Values.webui.annotations }}
{{- $_ = set $metadata "annotations" . -}}
{{- end }}
{{- dict "apiVersion" "webui.dev/v1alpha1" "kind" "WebUI" "metadata" $metadata "spec" .Values.webui.spec | toPrettyJson -}}
{{- end -}}

{{/*
Fails rendering when the seed's WebUI would land in a namespace the operator does not watch: the
operator would create it and then never reconcile it.
*/}}
{{- define "webui-operator.seedWatched" -}}
{{- $watched := include "webui-operator.watchNamespaces" . | fromJsonArray -}}
{{- if and $watched (not (has .Release.Namespace $watched)) -}}
{{- fail (printf "ERROR: webui.create makes the WebUI in the release namespace %s, which the operator does not watch (watchNamespaces: %s); add %s to watchNamespaces" .Release.Namespace (join "," $watched) .Release.Namespace) -}}
{{- end -}}
{{- end -}}
