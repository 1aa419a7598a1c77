#!/usr/bin/env bash
# A canary release of a Lambda function through the CodeDeploy API, as SAM's DeploymentPreference drives
# it (tutorials 002 and 003): version 2 of `greeter` goes out behind the alias `live` with
# CodeDeployDefault.LambdaCanary10Percent5Minutes, after a pre-traffic hook has tried it, while an alarm
# on the new version's errors stands ready to roll it back.
#   1. start Versa in another terminal:   versa start --time-scale 60   (five minutes pass in five seconds)
#   2. run this script:                   examples/canary-deployment/walk.sh
# Needs the AWS CLI (`aws`) and python3 (to build the zip files). Safe to run twice.
set -euo pipefail

ENDPOINT="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_PAGER=""
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROLE=arn:aws:iam::000000000000:role/lambda-role
FN=greeter HOOK=greeter-pre-traffic APP=greeter-app GROUP=greeter-live ALARM=greeter-live-new-version-errors
aws_() { aws --endpoint-url "$ENDPOINT" "$@"; }
# This checkout's versa, whichever folder the walk is run from.
VERSA_BIN="$(cd "$(dirname "$0")/../.." && pwd)/bin/versa.js"
versa() { node "$VERSA_BIN" "$@" --endpoint-url "$ENDPOINT"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

greeter_zip() { # greeter_zip <version>: a handler that says which version it is
  cat > "$work/index.mjs" <<JS
export const handler = async () => "hello from version $1";
JS
  (cd "$work" && rm -f greeter.zip && python3 -m zipfile -c greeter.zip index.mjs)
}

step "Clean up what an earlier run left"
aws_ deploy delete-deployment-group --application-name "$APP" --deployment-group-name "$GROUP" > /dev/null 2>&1 || true
aws_ deploy delete-application --application-name "$APP" > /dev/null 2>&1 || true
for fn in "$FN" "$HOOK"; do aws_ lambda delete-function --function-name "$fn" 2> /dev/null || true; done

step "Function $FN: version 1, version 2, and the alias live on version 1"
greeter_zip 1
aws_ lambda create-function --function-name "$FN" --runtime nodejs20.x --handler index.handler --role "$ROLE" \
  --zip-file "fileb://$work/greeter.zip" --query FunctionArn --output text
aws_ lambda publish-version --function-name "$FN" --query Version --output text
greeter_zip 2
aws_ lambda update-function-code --function-name "$FN" --zip-file "fileb://$work/greeter.zip" --query CodeSha256 --output text
aws_ lambda publish-version --function-name "$FN" --query Version --output text
aws_ lambda create-alias --function-name "$FN" --name live --function-version 1 --query AliasArn --output text

step "The pre-traffic hook $HOOK: tries version 2, then reports to CodeDeploy ($HERE/pre-traffic-hook/index.mjs)"
(cd "$HERE/pre-traffic-hook" && python3 -m zipfile -c "$work/hook.zip" index.mjs)
aws_ lambda create-function --function-name "$HOOK" --runtime nodejs20.x --handler index.handler --role "$ROLE" \
  --zip-file "fileb://$work/hook.zip" --environment "Variables={TARGET_FUNCTION=$FN,TARGET_VERSION=2}" \
  --query FunctionArn --output text

step "An alarm on the new version's errors behind live (what SAM's template would declare)"
aws_ cloudwatch put-metric-alarm --alarm-name "$ALARM" --namespace AWS/Lambda --metric-name Errors \
  --dimensions Name=FunctionName,Value="$FN" Name=Resource,Value="$FN:live" Name=ExecutedVersion,Value=2 \
  --statistic Sum --period 60 --evaluation-periods 1 --threshold 0 --comparison-operator GreaterThanThreshold \
  --treat-missing-data notBreaching
echo "$ALARM"

step "Application $APP and deployment group $GROUP: Canary10Percent5Minutes, the alarm, automatic rollback"
aws_ deploy create-application --application-name "$APP" --compute-platform Lambda --query applicationId --output text
aws_ deploy create-deployment-group --application-name "$APP" --deployment-group-name "$GROUP" \
  --service-role-arn arn:aws:iam::000000000000:role/codedeploy-role \
  --deployment-config-name CodeDeployDefault.LambdaCanary10Percent5Minutes \
  --deployment-style deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL \
  --alarm-configuration "enabled=true,alarms=[{name=$ALARM}]" \
  --auto-rollback-configuration enabled=true,events=DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM \
  --query deploymentGroupId --output text

step "Deploy version 2: the hook runs, 10% of live goes to version 2 for five minutes, then all of it"
APPSPEC=$(
  cat <<JSON
{"version": 0.0, "Resources": [{"$FN": {"Type": "AWS::Lambda::Function",
  "Properties": {"Name": "$FN", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}],
 "Hooks": [{"BeforeAllowTraffic": "$HOOK"}]}
JSON
)
REVISION=$(python3 -c 'import json, sys; print(json.dumps({"revisionType": "AppSpecContent", "appSpecContent": {"content": sys.argv[1]}}))' "$APPSPEC")
DEPLOYMENT=$(aws_ deploy create-deployment --application-name "$APP" --deployment-group-name "$GROUP" \
  --description "greeter version 2" --revision "$REVISION" --query deploymentId --output text)
echo "$DEPLOYMENT"
# Some traffic on live while the canary runs (in the background, so the watch below is not interrupted).
(sleep 1 && versa invoke "$FN:live" --count 40 > "$work/during.txt" 2>&1) &
counter=$!
versa deployments watch "$DEPLOYMENT"
wait "$counter" || true
echo "live while the canary ran:"
grep version "$work/during.txt" || cat "$work/during.txt"

step "After the deployment: every invocation of live gets version 2"
versa invoke "$FN:live" --count 10
aws_ lambda get-alias --function-name "$FN" --name live --query '[FunctionVersion,RoutingConfig]' --output json

step "The deployment as CodeDeploy reports it, and the list of deployments"
aws_ deploy get-deployment --deployment-id "$DEPLOYMENT" --query 'deploymentInfo.[status,deploymentConfigName,creator]' --output text
aws_ deploy get-deployment-target --deployment-id "$DEPLOYMENT" --target-id "$FN:live" \
  --query 'deploymentTarget.lambdaTarget.lifecycleEvents[].[lifecycleEventName,status]' --output text
versa deployments --application "$APP"

printf '\nDone. To see a rollback, deploy again and stop it half way: see examples/canary-deployment/README.md.\n'
