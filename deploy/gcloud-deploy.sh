#!/usr/bin/env bash
# Deploy the logexport stack with gcloud/bq only, for users without Terraform.
#
# It builds the same shape as terraform/: a Log Router sink -> Pub/Sub topic -> the consumers
# of MODE, the BigQuery dataset and tables, and the archive bucket, with the same
# least-privilege grants. MODE=batch (the default): a pull subscription (with its dead-letter
# topic) drained every minute by the `drain` function via Cloud Scheduler, which writes the rows
# and the archive. MODE=push: a push subscription (OIDC, dead-letter topic, retry policy) to
# the `ingest` function, which writes each row within seconds. MODE=both: both, ingest writing
# the rows and drain the archive. Re-running it is safe: existing resources are kept
# (functions are redeployed); it removes nothing a previous MODE created.
#
# Usage (from anywhere; it deploys the repository this script lives in):
#   PROJECT_ID=my-project REGION=europe-west1 deploy/gcloud-deploy.sh [--dry-run]
#
#   --dry-run   print every command instead of running it (no gcloud call is made, so
#               values that would be looked up appear as <PLACEHOLDERS>)
#
# Every setting below can be overridden from the environment.
set -euo pipefail

# --- Settings ---------------------------------------------------------------------------
PROJECT_ID="${PROJECT_ID:-}"                         # required (or `gcloud config set project`)
REGION="${REGION:-europe-west1}"                     # functions, scheduler, bucket region
PREFIX="${PREFIX:-logexport}"                        # prefix of every resource name
MODE="${MODE:-batch}"                                # batch (drain writes rows + archive), push (ingest), both
RUNTIME="${RUNTIME:-python312}"                      # python311 or python312
INGEST_TRIGGER="${INGEST_TRIGGER:-push}"             # push (own subscription + DLQ) or topic (Eventarc)
GKE_NAMESPACES="${GKE_NAMESPACES-default}"           # space-separated; set but empty: no container stdout
LOG_FILTER="${LOG_FILTER:-}"                         # replaces the default filter (self-exclusion is still added)
DATASET="${DATASET:-logs}"
BQ_LOCATION="${BQ_LOCATION:-EU}"
REQUESTS_TABLE="${REQUESTS_TABLE:-http_requests}"
ERRORS_TABLE="${ERRORS_TABLE:-errors}"
CLUSTERING_FIELDS="${CLUSTERING_FIELDS:-host,status}"
BIGQUERY_WRITE_METHOD="${BIGQUERY_WRITE_METHOD:-storage_write}"  # storage_write or insert_all
ARCHIVE_PREFIX="${ARCHIVE_PREFIX:-logs}"
NEARLINE_AGE_DAYS="${NEARLINE_AGE_DAYS:-30}"
COLDLINE_AGE_DAYS="${COLDLINE_AGE_DAYS:-90}"
DELETE_AGE_DAYS="${DELETE_AGE_DAYS:-730}"
ACK_DEADLINE="${ACK_DEADLINE:-120}"                  # seconds; >= ingest timeout
MAX_DELIVERY_ATTEMPTS="${MAX_DELIVERY_ATTEMPTS:-10}"
INGEST_MEMORY="${INGEST_MEMORY:-512Mi}"
INGEST_CPU="${INGEST_CPU:-1}"
INGEST_CONCURRENCY="${INGEST_CONCURRENCY:-16}"
INGEST_MAX_INSTANCES="${INGEST_MAX_INSTANCES:-10}"
INGEST_TIMEOUT="${INGEST_TIMEOUT:-60s}"
DRAIN_MEMORY="${DRAIN_MEMORY:-1Gi}"
DRAIN_MAX_INSTANCES="${DRAIN_MAX_INSTANCES:-1}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-300s}"
DRAIN_BATCH_SIZE="${DRAIN_BATCH_SIZE:-1000}"
DRAIN_BUDGET_SECONDS="${DRAIN_BUDGET_SECONDS:-200}"    # + one last batch must fit in DRAIN_TIMEOUT
DRAIN_WRITE_BIGQUERY="${DRAIN_WRITE_BIGQUERY:-false}"    # MODE=both: drain also writes BigQuery rows (batch: always)
INGEST_WRITE_ARCHIVE="${INGEST_WRITE_ARCHIVE:-false}"    # ingest also archives (one object per message)
INGEST_BATCH_WAIT_MS="${INGEST_BATCH_WAIT_MS:-20}"       # concurrent ingest requests share one append; 0 = off
WRITE_BUDGET_SECONDS="${WRITE_BUDGET_SECONDS:-30}"       # retry time of one write, within the timeouts
MAX_MESSAGE_BYTES="${MAX_MESSAGE_BYTES:-10485760}"       # larger messages become too_large error rows
LOG_LEVEL="${LOG_LEVEL:-INFO}"                           # DEBUG adds one log line per message
BUILD_SERVICE_ACCOUNT="${BUILD_SERVICE_ACCOUNT:-}"       # email of the account Cloud Build builds as; default <prefix>-build
DRAIN_SCHEDULE="${DRAIN_SCHEDULE:-* * * * *}"            # rows (batch) and archive objects wait at most this
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"
# Forwarding to syslog (Papertrail...): off unless FORWARD_DESTINATION or FORWARD_DESTINATION_SECRET is set.
FORWARD_DESTINATION="${FORWARD_DESTINATION:-}"                # syslog+tls://host:port; stored in Secret Manager
FORWARD_DESTINATION_SECRET="${FORWARD_DESTINATION_SECRET:-}"  # or: an existing secret (name) holding it
FORWARD_CA_SECRET="${FORWARD_CA_SECRET:-}"                    # optional secret (name) with a private relay's CA bundle
FORWARD_LOG_FILTER="${FORWARD_LOG_FILTER:-resource.type=\"k8s_container\" OR severity>=WARNING}"
FORWARD_FRAMING="${FORWARD_FRAMING:-octet-counting}"          # or newline
FORWARD_FACILITY="${FORWARD_FACILITY:-user}"
FORWARD_MAX_MESSAGE_BYTES="${FORWARD_MAX_MESSAGE_BYTES:-100000}"
FORWARD_BATCH_SIZE="${FORWARD_BATCH_SIZE:-1000}"
FORWARD_BUDGET_SECONDS="${FORWARD_BUDGET_SECONDS:-50}"
FORWARD_LINGER_SECONDS="${FORWARD_LINGER_SECONDS:-0}"
FORWARD_SEND_TIMEOUT_SECONDS="${FORWARD_SEND_TIMEOUT_SECONDS:-10}"  # connect, handshake, write, receiver's TCP ack
FORWARD_SCHEDULE="${FORWARD_SCHEDULE:-* * * * *}"
FORWARD_MEMORY="${FORWARD_MEMORY:-512Mi}"
FORWARD_TIMEOUT="${FORWARD_TIMEOUT:-90s}"

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# --- Helpers ----------------------------------------------------------------------------

# run CMD...: execute, or print it shell-quoted in --dry-run mode.
run() {
  if [[ $DRY_RUN == 1 ]]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}

# exists CMD...: true if the describe command succeeds; always false in --dry-run mode so
# that every create command is printed.
exists() {
  [[ $DRY_RUN == 0 ]] && "$@" >/dev/null 2>&1
}

# lookup PLACEHOLDER CMD...: the command's output, or <PLACEHOLDER> in --dry-run mode.
lookup() {
  local placeholder=$1
  shift
  if [[ $DRY_RUN == 1 ]]; then echo "<$placeholder>"; else "$@"; fi
}

die() { echo "error: $*" >&2; exit 1; }

# schedule JOB URL CRON ACCOUNT DEADLINE: create or update the Cloud Scheduler job that POSTs
# `{}` to URL on CRON with an identity token of ACCOUNT (--oidc-*), waiting DEADLINE for the
# answer; no retries: the next run picks up what this one left.
schedule() {
  local args=(--project="$PROJECT_ID" --location="$REGION" --schedule="$3" --time-zone="$TIME_ZONE"
    --uri="$2" --http-method=POST --message-body='{}' --headers=Content-Type=application/json
    --oidc-service-account-email="$4" --oidc-token-audience="$2" --attempt-deadline="$5"
    --max-retry-attempts=0)
  if exists gcloud scheduler jobs describe "$1" --project="$PROJECT_ID" --location="$REGION"; then
    run gcloud scheduler jobs update http "$1" "${args[@]}"
  else
    run gcloud scheduler jobs create http "$1" "${args[@]}"
  fi
}

# --- Checks -----------------------------------------------------------------------------
cd "$(dirname "${BASH_SOURCE[0]}")/.."          # the repository root is the function source
if [[ ! -f main.py || ! -f requirements.txt ]]; then
  [[ $DRY_RUN == 1 ]] || die "main.py and requirements.txt must be at $(pwd)"
  echo "warning: main.py or requirements.txt missing at $(pwd)" >&2
fi
if [[ -z $PROJECT_ID && $DRY_RUN == 0 ]]; then
  PROJECT_ID=$(gcloud config get-value project 2>/dev/null || true)
fi
PROJECT_ID="${PROJECT_ID:-<PROJECT_ID>}"
[[ $PROJECT_ID != "<PROJECT_ID>" || $DRY_RUN == 1 ]] || die "set PROJECT_ID"
[[ $RUNTIME == python311 || $RUNTIME == python312 ]] || die "RUNTIME must be python311 or python312"
[[ $INGEST_TRIGGER == push || $INGEST_TRIGGER == topic ]] || die "INGEST_TRIGGER must be push or topic"
[[ $MODE == batch || $MODE == push || $MODE == both ]] || die "MODE must be batch, push or both"
PUSH=0 PULL=0                                   # which consumers MODE deploys
[[ $MODE == push || $MODE == both ]] && PUSH=1
[[ $MODE == batch || $MODE == both ]] && PULL=1
[[ $MODE == batch ]] && DRAIN_WRITE_BIGQUERY=true  # drain is the only writer
[[ $BIGQUERY_WRITE_METHOD == storage_write || $BIGQUERY_WRITE_METHOD == insert_all ]] ||
  die "BIGQUERY_WRITE_METHOD must be storage_write or insert_all"

INGEST="${PREFIX}-ingest"
DRAIN="${PREFIX}-drain"
FORWARD="${PREFIX}-forward"
TOPIC="${PREFIX}-logs"
SINK="${PREFIX}-http-requests"
ARCHIVE_BUCKET="${ARCHIVE_BUCKET:-${PROJECT_ID}-${PREFIX}-archive}"
sa_email() { echo "${PREFIX}-$1@${PROJECT_ID}.iam.gserviceaccount.com"; }
INGEST_SA=$(sa_email ingest)
DRAIN_SA=$(sa_email drain)
PUSH_SA=$(sa_email push)
SCHED_SA=$(sa_email sched)
BUILD_SA="${BUILD_SERVICE_ACCOUNT:-$(sa_email build)}"
REPOSITORY="${PREFIX}-functions"

CONSUMERS=() RUNTIME_SAS=() ROLES=()            # by mode: the functions, their runtime accounts, every account
if [[ $PUSH == 1 ]]; then CONSUMERS+=("$INGEST"); RUNTIME_SAS+=("$INGEST_SA"); ROLES+=(ingest push); fi
if [[ $PULL == 1 ]]; then CONSUMERS+=("$DRAIN"); RUNTIME_SAS+=("$DRAIN_SA"); ROLES+=(drain sched); fi

# --- 1. APIs (Eventarc only for INGEST_TRIGGER=topic, Cloud Scheduler only with drain) ---
apis=(logging pubsub bigquery bigquerystorage storage cloudfunctions run cloudbuild artifactregistry iam)
[[ $PULL == 1 || -n $FORWARD_DESTINATION || -n $FORWARD_DESTINATION_SECRET ]] && apis+=(cloudscheduler)
[[ $PUSH == 1 && $INGEST_TRIGGER == topic ]] && apis+=(eventarc)
run gcloud services enable "${apis[@]/%/.googleapis.com}" --project="$PROJECT_ID"

PROJECT_NUMBER=$(lookup PROJECT_NUMBER gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')
PUBSUB_AGENT="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"

# --- 2. Service accounts: a runtime and an invoker identity per consumer ---------------
for role in "${ROLES[@]}"; do
  exists gcloud iam service-accounts describe "$(sa_email "$role")" --project="$PROJECT_ID" ||
    run gcloud iam service-accounts create "${PREFIX}-${role}" --project="$PROJECT_ID" \
      --display-name="logexport ${role}"
done

# The build account. Projects created since mid-2024 give Cloud Build's default account no
# build roles, so a first deploy there fails; builds run as this account instead, with what a
# build needs: write its logs, push the image to our repository, read the uploaded source.
BUILD_SA_NEW=0
if [[ -z $BUILD_SERVICE_ACCOUNT ]] && ! exists gcloud iam service-accounts describe "$BUILD_SA" --project="$PROJECT_ID"; then
  run gcloud iam service-accounts create "${PREFIX}-build" --project="$PROJECT_ID" --display-name="logexport build"
  BUILD_SA_NEW=1
fi
exists gcloud artifacts repositories describe "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION" ||
  run gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION" \
    --repository-format=docker --description="logexport function images"
run gcloud artifacts repositories add-iam-policy-binding "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION" \
  --member="serviceAccount:${BUILD_SA}" --role=roles/artifactregistry.writer
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="serviceAccount:${BUILD_SA}" \
  --role=roles/logging.logWriter --condition=None
# gcloud uploads the source to the Google-managed bucket gcf-v2-sources-NUMBER-REGION, which
# exists only after the first deploy: the read is granted on the project, limited to that bucket.
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="serviceAccount:${BUILD_SA}" \
  --role=roles/storage.objectViewer \
  --condition="expression=resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-${REGION}\"),title=logexport-function-sources"

# --- 3. Pub/Sub topics ------------------------------------------------------------------
# --message-retention-duration: the topic keeps messages 1 day so subscriptions can seek back.
for topic in "$TOPIC" "${CONSUMERS[@]/%/-dead-letter}"; do
  retention=31d
  [[ $topic == "$TOPIC" ]] && retention=1d
  exists gcloud pubsub topics describe "$topic" --project="$PROJECT_ID" ||
    run gcloud pubsub topics create "$topic" --project="$PROJECT_ID" --message-retention-duration="$retention"
done
# Dead letters are only kept if a subscription exists on the dead-letter topic:
# pull subscriptions that retain them 31 days and never expire.
for consumer in "${CONSUMERS[@]}"; do
  exists gcloud pubsub subscriptions describe "${consumer}-dead-letter" --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create "${consumer}-dead-letter" --project="$PROJECT_ID" \
      --topic="${consumer}-dead-letter" --message-retention-duration=31d --retain-acked-messages \
      --expiration-period=never
  # The Pub/Sub service agent publishes the dead letters.
  run gcloud pubsub topics add-iam-policy-binding "${consumer}-dead-letter" --project="$PROJECT_ID" \
    --member="$PUBSUB_AGENT" --role=roles/pubsub.publisher
done

# --- 4. BigQuery: dataset, tables (schemas generated by `make schemas`), view ----------
exists bq --project_id="$PROJECT_ID" show --dataset "${PROJECT_ID}:${DATASET}" ||
  run bq --project_id="$PROJECT_ID" mk --dataset --location="$BQ_LOCATION" \
    --description="HTTP request logs exported by logexport" "${PROJECT_ID}:${DATASET}"
# --time_partitioning_*: DAY partitions on the event time; --clustering_fields: the
# columns most queries filter on.
# An existing table gets the schema's new columns (additions only; BigQuery refuses others).
if exists bq --project_id="$PROJECT_ID" show "${PROJECT_ID}:${DATASET}.${REQUESTS_TABLE}"; then
  run bq --project_id="$PROJECT_ID" update "${PROJECT_ID}:${DATASET}.${REQUESTS_TABLE}" terraform/schemas/http_requests.json
else
  run bq --project_id="$PROJECT_ID" mk --table --schema=terraform/schemas/http_requests.json \
    --time_partitioning_type=DAY --time_partitioning_field=timestamp \
    --clustering_fields="$CLUSTERING_FIELDS" "${PROJECT_ID}:${DATASET}.${REQUESTS_TABLE}"
fi
exists bq --project_id="$PROJECT_ID" show "${PROJECT_ID}:${DATASET}.${ERRORS_TABLE}" ||
  run bq --project_id="$PROJECT_ID" mk --table --schema=terraform/schemas/errors.json \
    --time_partitioning_type=DAY --time_partitioning_field=error_timestamp \
    --time_partitioning_expiration=$((90 * 86400)) "${PROJECT_ID}:${DATASET}.${ERRORS_TABLE}"
# The view's SQL is the one Terraform deploys (generated from functions/views.py).
DEDUP_SQL=$(<terraform/sql/http_requests_dedup.sql)
DEDUP_SQL=${DEDUP_SQL//'${requests_table}'/${PROJECT_ID}.${DATASET}.${REQUESTS_TABLE}}
exists bq --project_id="$PROJECT_ID" show "${PROJECT_ID}:${DATASET}.${REQUESTS_TABLE}_dedup" ||
  run bq --project_id="$PROJECT_ID" mk --use_legacy_sql=false --view="$DEDUP_SQL" \
    "${PROJECT_ID}:${DATASET}.${REQUESTS_TABLE}_dedup"
# The report's table functions (terraform/sql/report/*.sql, as Terraform's report.tf fills
# them), created or replaced on every run: one line each, comment lines dropped.
for sql in terraform/sql/report/*.sql; do
  body=$(sed -e '/^[[:space:]]*--/d' -e "s/\${project}/${PROJECT_ID}/g" -e "s/\${dataset}/${DATASET}/g" \
    -e "s/\${requests_view}/${REQUESTS_TABLE}_dedup/g" -e "s/\${errors_table}/${ERRORS_TABLE}/g" "$sql" | tr -s '\n ' ' ')
  run bq --project_id="$PROJECT_ID" query --use_legacy_sql=false --nouse_cache \
    "CREATE OR REPLACE TABLE FUNCTION \`${PROJECT_ID}.${DATASET}.$(basename "$sql" .sql)\`(since TIMESTAMP, until TIMESTAMP) AS ${body}"
done
# Dataset-level grants only: dataEditor carries bigquery.tables.updateData, all that the
# Storage Write API and insertAll need. (Older bq versions cannot bind on a dataset: add the
# accounts as "BigQuery Data Editor" in the dataset's Sharing > Permissions page instead.)
for sa in "${RUNTIME_SAS[@]}"; do
  run bq --project_id="$PROJECT_ID" add-iam-policy-binding --member="serviceAccount:${sa}" \
    --role=roles/bigquery.dataEditor "${PROJECT_ID}:${DATASET}"
done

# --- 5. Archive bucket -------------------------------------------------------------------
LIFECYCLE=$(mktemp)
trap 'rm -f "$LIFECYCLE"' EXIT
cat >"$LIFECYCLE" <<JSON
{"rule": [
  {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": ${NEARLINE_AGE_DAYS}, "matchesStorageClass": ["STANDARD"]}},
  {"action": {"type": "SetStorageClass", "storageClass": "COLDLINE"}, "condition": {"age": ${COLDLINE_AGE_DAYS}, "matchesStorageClass": ["STANDARD", "NEARLINE"]}},
  {"action": {"type": "Delete"}, "condition": {"age": ${DELETE_AGE_DAYS}}}
]}
JSON
# --uniform-bucket-level-access: IAM only, no object ACLs; --public-access-prevention:
# the bucket can never be made public.
exists gcloud storage buckets describe "gs://${ARCHIVE_BUCKET}" --project="$PROJECT_ID" ||
  run gcloud storage buckets create "gs://${ARCHIVE_BUCKET}" --project="$PROJECT_ID" \
    --location="$REGION" --uniform-bucket-level-access --public-access-prevention
run gcloud storage buckets update "gs://${ARCHIVE_BUCKET}" --lifecycle-file="$LIFECYCLE"
# objectCreator at bucket level: writes use if_generation_match=0 (create only). drain
# archives; ingest only when INGEST_WRITE_ARCHIVE=true.
archivers=()
[[ $PULL == 1 ]] && archivers+=("$DRAIN_SA")
[[ $PUSH == 1 && $INGEST_WRITE_ARCHIVE == true ]] && archivers+=("$INGEST_SA")
for sa in "${archivers[@]}"; do
  run gcloud storage buckets add-iam-policy-binding "gs://${ARCHIVE_BUCKET}" \
    --member="serviceAccount:${sa}" --role=roles/storage.objectCreator
done

# --- 6. Functions ------------------------------------------------------------------------
ENV_COMMON="GOOGLE_CLOUD_PROJECT=${PROJECT_ID},BIGQUERY_DATASET=${DATASET},BIGQUERY_TABLE=${REQUESTS_TABLE}"
ENV_COMMON+=",BIGQUERY_ERROR_TABLE=${ERRORS_TABLE},BIGQUERY_WRITE_METHOD=${BIGQUERY_WRITE_METHOD}"
ENV_COMMON+=",ARCHIVE_BUCKET=${ARCHIVE_BUCKET},ARCHIVE_PREFIX=${ARCHIVE_PREFIX}"
ENV_COMMON+=",WRITE_BUDGET_SECONDS=${WRITE_BUDGET_SECONDS},MAX_MESSAGE_BYTES=${MAX_MESSAGE_BYTES}"
ENV_COMMON+=",ACK_DEADLINE_SECONDS=${ACK_DEADLINE},LOG_LEVEL=${LOG_LEVEL}"
ENV_INGEST="${ENV_COMMON},INGEST_WRITE_ARCHIVE=${INGEST_WRITE_ARCHIVE},INGEST_BATCH_WAIT_MS=${INGEST_BATCH_WAIT_MS}"
ENV_INGEST+=",INGEST_TIMEOUT_SECONDS=${INGEST_TIMEOUT%s}"
ENV_DRAIN="${ENV_COMMON},DRAIN_SUBSCRIPTION=projects/${PROJECT_ID}/subscriptions/${DRAIN}"
ENV_DRAIN+=",DRAIN_BATCH_SIZE=${DRAIN_BATCH_SIZE},DRAIN_BUDGET_SECONDS=${DRAIN_BUDGET_SECONDS}"
ENV_DRAIN+=",DRAIN_WRITE_BIGQUERY=${DRAIN_WRITE_BIGQUERY},DRAIN_TIMEOUT_SECONDS=${DRAIN_TIMEOUT%s}"

# The functions refuse settings whose budgets cannot nest (write budget vs timeout vs ack
# deadline); check them here with the same code (functions/config.py), before anything is deployed.
check_settings() {  # ENV CHECK
  if ! command -v python3 >/dev/null; then
    echo "warning: python3 not found: settings not checked before deploying" >&2
    return 0
  fi
  PYTHONPATH=. python3 -c 'import sys
from functions.config import ConfigError, Settings
try:
    getattr(Settings.from_env(dict(p.split("=", 1) for p in sys.argv[1].split(","))), sys.argv[2])()
except ConfigError as error:
    sys.exit(f"error: {error}")' "$1" "$2"
}
[[ $PUSH == 1 ]] && check_settings "$ENV_INGEST" check_ingest
[[ $PULL == 1 ]] && check_settings "$ENV_DRAIN" check_drain

# Flags shared by both deployments:
#   --gen2                      Cloud Functions 2nd gen (runs on Cloud Run)
#   --runtime                   python311 or python312
#   --region                    where the function (and its Cloud Run service) lives
#   --source=.                  the repository root: main.py + requirements.txt (.gcloudignore
#                               keeps tests, terraform, .venv... out of the upload)
#   --no-allow-unauthenticated  callers need roles/run.invoker (granted below to one identity)
#   --ingress-settings          internal-only: Pub/Sub push and Cloud Scheduler in this
#                               project still get through, the internet does not
#   --service-account           the runtime identity (dataset editor, bucket object creator)
#   --set-env-vars              configuration read by functions/config.py
#   --memory / --cpu            instance size; concurrency above 1 needs at least 1 vCPU
#   --concurrency               concurrent requests per instance
#   --max-instances             upper bound of the autoscaler (cost and quota guard)
#   --timeout                   request timeout
#   --build-service-account     the build account above; --docker-repository: our repository
common=(--gen2 --runtime="$RUNTIME" --region="$REGION" --project="$PROJECT_ID" --source=.
  --ingress-settings=internal-only --quiet
  --build-service-account="projects/${PROJECT_ID}/serviceAccounts/${BUILD_SA}"
  --docker-repository="projects/${PROJECT_ID}/locations/${REGION}/repositories/${REPOSITORY}")
# A new account's grants take a minute to reach Cloud Build (Terraform waits 60 s too).
if [[ $BUILD_SA_NEW == 1 && $DRY_RUN == 0 ]]; then
  echo "waiting 60 s for the build account's grants to propagate" >&2
  sleep 60
fi

if [[ $INGEST_TRIGGER == push ]]; then
  # --trigger-http + --entry-point=ingest: ingest is a CloudEvent function; with no Eventarc
  # trigger our own push subscription (below) calls it, which allows a dead-letter topic.
  ingest_trigger=(--trigger-http --no-allow-unauthenticated)
else
  # --trigger-topic: Eventarc creates and owns the subscription; simpler, but that
  # subscription cannot have a dead-letter policy. --retry redelivers failures (for up to
  # 7 days), so a dependency outage does not lose messages.
  ingest_trigger=(--trigger-topic="$TOPIC" --retry --trigger-service-account="$PUSH_SA")
fi
url_of() {
  lookup "${1^^}_URL" gcloud functions describe "$1" --gen2 --region="$REGION" --project="$PROJECT_ID" \
    --format='value(serviceConfig.uri)'
}
# run.invoker for exactly one identity per function.
if [[ $PUSH == 1 ]]; then
  run gcloud functions deploy "$INGEST" "${common[@]}" "${ingest_trigger[@]}" \
    --entry-point=ingest --service-account="$INGEST_SA" --set-env-vars="$ENV_INGEST" \
    --memory="$INGEST_MEMORY" --cpu="$INGEST_CPU" --concurrency="$INGEST_CONCURRENCY" \
    --max-instances="$INGEST_MAX_INSTANCES" --timeout="$INGEST_TIMEOUT"
  run gcloud functions add-invoker-policy-binding "$INGEST" --region="$REGION" --project="$PROJECT_ID" \
    --member="serviceAccount:${PUSH_SA}"
  INGEST_URL=$(url_of "$INGEST")
fi
if [[ $PULL == 1 ]]; then
  # drain: an HTTP function; one instance at a time pulls for DRAIN_BUDGET_SECONDS.
  run gcloud functions deploy "$DRAIN" "${common[@]}" --trigger-http --no-allow-unauthenticated \
    --entry-point=drain --service-account="$DRAIN_SA" --set-env-vars="$ENV_DRAIN" \
    --memory="$DRAIN_MEMORY" --concurrency=1 --max-instances="$DRAIN_MAX_INSTANCES" --timeout="$DRAIN_TIMEOUT"
  run gcloud functions add-invoker-policy-binding "$DRAIN" --region="$REGION" --project="$PROJECT_ID" \
    --member="serviceAccount:${SCHED_SA}"
  DRAIN_URL=$(url_of "$DRAIN")
fi

# --- 7. Subscriptions ---------------------------------------------------------------------
# Shared: --ack-deadline (push: how long Pub/Sub waits for the HTTP answer),
# --dead-letter-topic/--max-delivery-attempts (give up after N tries, keep the message),
# --min/max-retry-delay (exponential backoff), --expiration-period=never (no expiry for
# inactivity), --message-retention-duration (unacked messages kept 7 days).
sub_common=(--project="$PROJECT_ID" --topic="$TOPIC" --ack-deadline="$ACK_DEADLINE"
  --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" --min-retry-delay=10s --max-retry-delay=600s
  --expiration-period=never --message-retention-duration=7d)
if [[ $PUSH == 1 && $INGEST_TRIGGER == push ]]; then
  # --push-endpoint: the function URL; --push-auth-service-account: Pub/Sub signs an OIDC
  # token as the push identity; --push-auth-token-audience: the audience Cloud Run checks.
  exists gcloud pubsub subscriptions describe "$INGEST" --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create "$INGEST" "${sub_common[@]}" \
      --dead-letter-topic="${INGEST}-dead-letter" --push-endpoint="$INGEST_URL" \
      --push-auth-service-account="$PUSH_SA" --push-auth-token-audience="$INGEST_URL"
  run gcloud pubsub subscriptions add-iam-policy-binding "$INGEST" --project="$PROJECT_ID" \
    --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber
  # Needed on projects created before 2021-04-08 for OIDC push; scoped to the push account.
  run gcloud iam service-accounts add-iam-policy-binding "$PUSH_SA" --project="$PROJECT_ID" \
    --member="$PUBSUB_AGENT" --role=roles/iam.serviceAccountTokenCreator
fi
if [[ $PULL == 1 ]]; then
  exists gcloud pubsub subscriptions describe "$DRAIN" --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create "$DRAIN" "${sub_common[@]}" --dead-letter-topic="${DRAIN}-dead-letter"
  run gcloud pubsub subscriptions add-iam-policy-binding "$DRAIN" --project="$PROJECT_ID" \
    --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber
  run gcloud pubsub subscriptions add-iam-policy-binding "$DRAIN" --project="$PROJECT_ID" \
    --member="serviceAccount:${DRAIN_SA}" --role=roles/pubsub.subscriber

  # --- 8. Cloud Scheduler -> drain (OIDC) -------------------------------------------------
  schedule "$DRAIN" "$DRAIN_URL" "$DRAIN_SCHEDULE" "$SCHED_SA" 320s
fi

# --- 9. Log Router sink (last, so nothing is exported before the consumers exist) ---------
# Same filter as terraform/modules/log-filter: requests, AND NOT this stack's own logs
# (Cloud Run logs a request, with httpRequest, for every push to ingest: a feedback loop).
# forward's name is excluded too, whether or not it is deployed.
if [[ -z $LOG_FILTER ]]; then
  LOG_FILTER='httpRequest:* OR protoPayload.@type="type.googleapis.com/google.appengine.logging.v1.RequestLog"'
  if [[ -n $GKE_NAMESPACES ]]; then
    ns_clause=""
    for ns in $GKE_NAMESPACES; do
      ns_clause+="${ns_clause:+ OR }resource.labels.namespace_name=\"${ns}\""
    done
    LOG_FILTER+=" OR (resource.type=\"k8s_container\" AND log_id(\"stdout\") AND (${ns_clause}))"
  fi
fi
SELF="(resource.type=\"cloud_run_revision\" AND (resource.labels.service_name=\"${INGEST}\" OR resource.labels.service_name=\"${DRAIN}\" OR resource.labels.service_name=\"${FORWARD}\"))"
SELF+=" OR (resource.type=\"cloud_function\" AND (resource.labels.function_name=\"${INGEST}\" OR resource.labels.function_name=\"${DRAIN}\" OR resource.labels.function_name=\"${FORWARD}\"))"
SELF+=" OR labels.logexport_component:*"
EFFECTIVE_FILTER="(${LOG_FILTER}) AND NOT (${SELF})"

DESTINATION="pubsub.googleapis.com/projects/${PROJECT_ID}/topics/${TOPIC}"
if exists gcloud logging sinks describe "$SINK" --project="$PROJECT_ID"; then
  run gcloud logging sinks update "$SINK" "$DESTINATION" --project="$PROJECT_ID" --log-filter="$EFFECTIVE_FILTER"
else
  # New sinks get their own (unique) writer identity.
  run gcloud logging sinks create "$SINK" "$DESTINATION" --project="$PROJECT_ID" --log-filter="$EFFECTIVE_FILTER"
fi
WRITER=$(lookup SINK_WRITER_IDENTITY gcloud logging sinks describe "$SINK" --project="$PROJECT_ID" \
  --format='value(writerIdentity)')
# The writer identity may publish to the log topic, nothing else.
run gcloud pubsub topics add-iam-policy-binding "$TOPIC" --project="$PROJECT_ID" \
  --member="$WRITER" --role=roles/pubsub.publisher

# --- 10. Forwarding to syslog (optional): sink -> topic -> pull -> forward -> TLS --------
if [[ -n $FORWARD_DESTINATION || -n $FORWARD_DESTINATION_SECRET ]]; then
  [[ -z $FORWARD_DESTINATION || $FORWARD_DESTINATION =~ ^syslog\+(tls|tcp):// ]] ||
    die "FORWARD_DESTINATION must look like syslog+tls://host:port"
  [[ $FORWARD_FRAMING == octet-counting || $FORWARD_FRAMING == newline ]] ||
    die "FORWARD_FRAMING must be octet-counting or newline"
  FORWARD_SA=$(sa_email forward)
  FWDCRON_SA=$(sa_email fwdcron)
  SECRET="${FORWARD_DESTINATION_SECRET:-${FORWARD}-destination}"
  run gcloud services enable secretmanager.googleapis.com --project="$PROJECT_ID"
  for role in forward fwdcron; do
    exists gcloud iam service-accounts describe "$(sa_email "$role")" --project="$PROJECT_ID" ||
      run gcloud iam service-accounts create "${PREFIX}-${role}" --project="$PROJECT_ID" \
        --display-name="logexport ${role}"
  done

  # The destination is a secret (Papertrail's host:port admits anyone to the account): it
  # goes to Secret Manager through stdin, never on a command line or into the dry run.
  if [[ -n $FORWARD_DESTINATION ]]; then
    exists gcloud secrets describe "$SECRET" --project="$PROJECT_ID" ||
      run gcloud secrets create "$SECRET" --project="$PROJECT_ID" --replication-policy=automatic
    if [[ $DRY_RUN == 1 ]] || [[ "$(gcloud secrets versions access latest --secret="$SECRET" \
      --project="$PROJECT_ID" 2>/dev/null || true)" != "$FORWARD_DESTINATION" ]]; then
      printf '%s' "$FORWARD_DESTINATION" | run gcloud secrets versions add "$SECRET" --project="$PROJECT_ID" --data-file=-
    fi
  fi
  # forward may read its secrets, nothing else.
  for secret in "$SECRET" ${FORWARD_CA_SECRET:+"$FORWARD_CA_SECRET"}; do
    run gcloud secrets add-iam-policy-binding "$secret" --project="$PROJECT_ID" \
      --member="serviceAccount:${FORWARD_SA}" --role=roles/secretmanager.secretAccessor
  done

  for topic in "$FORWARD" "${FORWARD}-dead-letter"; do
    retention=31d
    [[ $topic == "$FORWARD" ]] && retention=1d
    exists gcloud pubsub topics describe "$topic" --project="$PROJECT_ID" ||
      run gcloud pubsub topics create "$topic" --project="$PROJECT_ID" --message-retention-duration="$retention"
  done
  exists gcloud pubsub subscriptions describe "${FORWARD}-dead-letter" --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create "${FORWARD}-dead-letter" --project="$PROJECT_ID" \
      --topic="${FORWARD}-dead-letter" --message-retention-duration=31d --retain-acked-messages \
      --expiration-period=never
  run gcloud pubsub topics add-iam-policy-binding "${FORWARD}-dead-letter" --project="$PROJECT_ID" \
    --member="$PUBSUB_AGENT" --role=roles/pubsub.publisher
  # Pull: forward sends a batch over one TLS connection and acks it once the receiver read it.
  exists gcloud pubsub subscriptions describe "$FORWARD" --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create "$FORWARD" --project="$PROJECT_ID" --topic="$FORWARD" \
      --ack-deadline="$ACK_DEADLINE" --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" --min-retry-delay=10s \
      --max-retry-delay=600s --expiration-period=never --message-retention-duration=7d \
      --dead-letter-topic="${FORWARD}-dead-letter"
  for member in "$PUBSUB_AGENT" "serviceAccount:${FORWARD_SA}"; do
    run gcloud pubsub subscriptions add-iam-policy-binding "$FORWARD" --project="$PROJECT_ID" \
      --member="$member" --role=roles/pubsub.subscriber
  done

  # --set-secrets: FORWARD_DESTINATION from the secret (and the CA bundle as a file);
  # one instance, one request at a time: batches leave in order.
  ENV_FORWARD="GOOGLE_CLOUD_PROJECT=${PROJECT_ID},FORWARD_SUBSCRIPTION=projects/${PROJECT_ID}/subscriptions/${FORWARD}"
  ENV_FORWARD+=",FORWARD_FRAMING=${FORWARD_FRAMING},FORWARD_FACILITY=${FORWARD_FACILITY}"
  ENV_FORWARD+=",FORWARD_MAX_MESSAGE_BYTES=${FORWARD_MAX_MESSAGE_BYTES},FORWARD_BATCH_SIZE=${FORWARD_BATCH_SIZE}"
  ENV_FORWARD+=",FORWARD_BUDGET_SECONDS=${FORWARD_BUDGET_SECONDS},FORWARD_LINGER_SECONDS=${FORWARD_LINGER_SECONDS}"
  ENV_FORWARD+=",FORWARD_SEND_TIMEOUT_SECONDS=${FORWARD_SEND_TIMEOUT_SECONDS},LOG_LEVEL=${LOG_LEVEL}"
  SECRETS="FORWARD_DESTINATION=${SECRET}:latest"
  if [[ -n $FORWARD_CA_SECRET ]]; then
    ENV_FORWARD+=",FORWARD_CA_FILE=/etc/logexport/forward-ca/ca.pem"
    SECRETS+=",/etc/logexport/forward-ca/ca.pem=${FORWARD_CA_SECRET}:latest"
  fi
  run gcloud functions deploy "$FORWARD" "${common[@]}" --trigger-http --no-allow-unauthenticated \
    --entry-point=forward --service-account="$FORWARD_SA" --set-env-vars="$ENV_FORWARD" \
    --set-secrets="$SECRETS" --memory="$FORWARD_MEMORY" --concurrency=1 --max-instances=1 \
    --timeout="$FORWARD_TIMEOUT"
  run gcloud functions add-invoker-policy-binding "$FORWARD" --region="$REGION" --project="$PROJECT_ID" \
    --member="serviceAccount:${FWDCRON_SA}"
  FORWARD_URL=$(url_of "$FORWARD")
  schedule "$FORWARD" "$FORWARD_URL" "$FORWARD_SCHEDULE" "$FWDCRON_SA" 110s

  # Its own sink, last: the cluster's logs and warnings, AND NOT this stack's own logs.
  FORWARD_FILTER="(${FORWARD_LOG_FILTER}) AND NOT (${SELF})"
  FORWARD_DESTINATION_TOPIC="pubsub.googleapis.com/projects/${PROJECT_ID}/topics/${FORWARD}"
  if exists gcloud logging sinks describe "$FORWARD" --project="$PROJECT_ID"; then
    run gcloud logging sinks update "$FORWARD" "$FORWARD_DESTINATION_TOPIC" --project="$PROJECT_ID" \
      --log-filter="$FORWARD_FILTER"
  else
    run gcloud logging sinks create "$FORWARD" "$FORWARD_DESTINATION_TOPIC" --project="$PROJECT_ID" \
      --log-filter="$FORWARD_FILTER"
  fi
  FORWARD_WRITER=$(lookup FORWARD_SINK_WRITER_IDENTITY gcloud logging sinks describe "$FORWARD" \
    --project="$PROJECT_ID" --format='value(writerIdentity)')
  run gcloud pubsub topics add-iam-policy-binding "$FORWARD" --project="$PROJECT_ID" \
    --member="$FORWARD_WRITER" --role=roles/pubsub.publisher
fi

[[ $DRY_RUN == 1 ]] && { echo "Dry run: nothing was changed." >&2; exit 0; }
echo "Deployed. Query: bq query --use_legacy_sql=false 'SELECT * FROM \`${PROJECT_ID}.${DATASET}.${REQUESTS_TABLE}\` WHERE timestamp > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR) LIMIT 10'" >&2
