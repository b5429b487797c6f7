{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "orderflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the release name
already contains it. Truncated to leave room for the "-worker"/"-migrate" suffixes.
*/}}
{{- define "orderflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "orderflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "orderflow.labels" -}}
helm.sh/chart: {{ include "orderflow.chart" . }}
{{ include "orderflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: orderflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels (add app.kubernetes.io/component per workload).
*/}}
{{- define "orderflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orderflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Container image reference.
*/}}
{{- define "orderflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Name of the Secret holding DATABASE_URL, JWT_SECRET, REDIS_URL and SMTP_URL.
*/}}
{{- define "orderflow.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "orderflow.fullname" .) }}
{{- end }}

{{/*
ORDERFLOW_PUBLIC_URL: config.publicUrl, else the first ingress host, else empty.
*/}}
{{- define "orderflow.publicUrl" -}}
{{- if .Values.config.publicUrl }}
{{- .Values.config.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $scheme := "http" }}
{{- if .Values.ingress.tls }}
{{- $scheme = "https" }}
{{- end }}
{{- printf "%s://%s" $scheme (first .Values.ingress.hosts).host }}
{{- end }}
{{- end }}

{{/*
Non-secret environment, as a YAML map of strings: the ConfigMap's data, and the migration
Job's env (which runs before the ConfigMap exists on first install).
*/}}
{{- define "orderflow.config" -}}
ORDERFLOW_BIND: {{ printf "0.0.0.0:%d" (int .Values.containerPort) | quote }}
ORDERFLOW_METRICS_BIND: {{ printf "0.0.0.0:%d" (int .Values.metricsPort) | quote }}
ORDERFLOW_DATA_DIR: {{ .Values.dataDir.path | quote }}
{{- with (include "orderflow.publicUrl" .) }}
ORDERFLOW_PUBLIC_URL: {{ . | quote }}
{{- end }}
ORDERFLOW_DB_ROLE: {{ .Values.config.dbRole | default "none" | quote }}
ORDERFLOW_DB_MAX_CONNECTIONS: {{ .Values.config.dbMaxConnections | int | toString | quote }}
ORDERFLOW_AUTO_MIGRATE: {{ (not .Values.migrations.enabled) | toString | quote }}
ORDERFLOW_REDIS_PREFIX: {{ .Values.config.redisPrefix | quote }}
ORDERFLOW_MAIL_FROM: {{ .Values.config.mailFrom | quote }}
ORDERFLOW_LOG_FORMAT: {{ .Values.config.logFormat | quote }}
ORDERFLOW_TRUST_PROXY: {{ .Values.config.trustProxy | toString | quote }}
RUST_LOG: {{ .Values.config.logLevel | quote }}
{{- range $name, $value := .Values.config.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Environment sources shared by the API and worker containers.
*/}}
{{- define "orderflow.envFrom" -}}
- configMapRef:
    name: {{ include "orderflow.fullname" . }}
- secretRef:
    name: {{ include "orderflow.secretName" . }}
{{- end }}

{{/*
Writable mounts under a read-only root filesystem.
*/}}
{{- define "orderflow.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.dataDir.path }}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "orderflow.volumes" -}}
- name: data
  {{- if .Values.dataDir.sizeLimit }}
  emptyDir:
    sizeLimit: {{ .Values.dataDir.sizeLimit }}
  {{- else }}
  emptyDir: {}
  {{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/*
Pod checksum annotations, so that pods roll when configuration changes.
*/}}
{{- define "orderflow.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/*
Fails rendering on settings that cannot work. Renders nothing otherwise.
*/}}
{{- define "orderflow.validate" -}}
{{- if not .Values.secrets.existingSecret }}
{{- if not .Values.secrets.databaseUrl }}
{{- fail "orderflow: set secrets.existingSecret (a Secret with DATABASE_URL and JWT_SECRET) or secrets.databaseUrl" }}
{{- end }}
{{- if not (hasPrefix "postgres" .Values.secrets.databaseUrl) }}
{{- fail "orderflow: secrets.databaseUrl must be a postgres:// URL (a SQLite file in a pod's emptyDir would be lost and not shared)" }}
{{- end }}
{{- if and .Values.secrets.jwtSecret (lt (len .Values.secrets.jwtSecret) 32) }}
{{- fail "orderflow: secrets.jwtSecret must be at least 32 bytes" }}
{{- end }}
{{- end }}
{{- if not (has .Values.config.logFormat (list "text" "json")) }}
{{- fail "orderflow: config.logFormat must be text or json" }}
{{- end }}
{{- end }}
