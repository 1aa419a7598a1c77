#!/usr/bin/env bash
# Tutorial 001's lab, step by step, with the AWS CLI against a running Versa: an API Gateway REST API on
# MathCeil, a stage canary to MathFloor at 10%, then 50%, then promoted.
#   1. start Versa in another terminal:   npm start
#   2. run this script:                   examples/api-canary/walk.sh
# Needs the AWS CLI (`aws`), curl and python3 (to build the zip files). Safe to run twice.
set -euo pipefail

ENDPOINT="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_PAGER=""
REGION="$AWS_DEFAULT_REGION"
aws_() { aws --endpoint-url "$ENDPOINT" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

function_zip() { # function_zip <name> <Math call> <label>
  cat > "$work/index.js" <<JS
exports.handler = async (event, context, callback) => {
  callback(null, "this is the $3 function ($2) = " + $2(999.5));
};
JS
  (cd "$work" && rm -f "$1.zip" && python3 -m zipfile -c "$1.zip" index.js)
}
uri() { echo "arn:aws:apigateway:$REGION:lambda:path/2015-03-31/functions/arn:aws:lambda:$REGION:000000000000:function:$1/invocations"; }
# count <n> <expect>: requests the stage n times, prints how many answers came from each function, and
# stops the walk when they are not what the step should give: ceil (all MathCeil), floor (all MathFloor)
# or both (some of each). Any other answer stops it too.
count() {
  local ceil=0 floor=0 other=0 answer
  for _ in $(seq "$1"); do
    answer=$(curl -s "$STAGE_URL")
    case "$answer" in
      *Math.ceil*) ceil=$((ceil + 1)) ;;
      *Math.floor*) floor=$((floor + 1)) ;;
      *) other=$((other + 1)); echo "unexpected answer: $answer" >&2 ;;
    esac
  done
  printf '%d requests: MathCeil %d, MathFloor %d\n' "$1" "$ceil" "$floor"
  local ok=1
  case "$2" in
    ceil) [ "$ceil" -eq "$1" ] || ok=0 ;;
    floor) [ "$floor" -eq "$1" ] || ok=0 ;;
    both) [ "$ceil" -gt 0 ] && [ "$floor" -gt 0 ] && [ "$other" -eq 0 ] || ok=0 ;;
  esac
  if [ "$ok" -eq 0 ]; then
    echo "walk.sh: expected $2 from the stage, got the counts above; stopping." >&2
    exit 1
  fi
}

step 'Functions MathCeil (the original) and MathFloor (the canary)'
for fn in MathCeil MathFloor; do aws_ lambda delete-function --function-name "$fn" 2>/dev/null || true; done
function_zip MathCeil Math.ceil original
function_zip MathFloor Math.floor canary
for fn in MathCeil MathFloor; do
  aws_ lambda create-function --function-name "$fn" --runtime nodejs20.x --handler index.handler \
    --role arn:aws:iam::000000000000:role/lambda-role --zip-file "fileb://$work/$fn.zip" --query FunctionArn --output text
done

step 'A REST API with GET / → MathCeil (a non-proxy Lambda integration, as the console makes it)'
API_ID=$(aws_ apigateway create-rest-api --name MathApi --query id --output text)
ROOT_ID=$(aws_ apigateway get-resources --rest-api-id "$API_ID" --query 'items[0].id' --output text)
aws_ apigateway put-method --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET --authorization-type NONE --query httpMethod --output text
aws_ apigateway put-integration --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET \
  --type AWS --integration-http-method POST --uri "$(uri MathCeil)" --query uri --output text
aws_ apigateway put-method-response --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET --status-code 200 --query statusCode --output text
aws_ apigateway put-integration-response --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET --status-code 200 \
  --selection-pattern '' --query statusCode --output text
aws_ lambda add-permission --function-name MathCeil --statement-id apigateway-get --action lambda:InvokeFunction \
  --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:$REGION:000000000000:$API_ID/*/GET/" --query Statement --output text

step 'Test the method before deploying it'
aws_ apigateway test-invoke-method --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET --query '[status,body]' --output text

step 'Deploy to stage prod: every request gets MathCeil'
aws_ apigateway create-deployment --rest-api-id "$API_ID" --stage-name prod --description 'MathCeil' --query id --output text
STAGE_URL="$ENDPOINT/restapis/$API_ID/prod/_user_request_/"
echo "stage URL: $STAGE_URL"
echo "      or:  http://$API_ID.execute-api.localhost:${ENDPOINT##*:}/prod/"
curl -s "$STAGE_URL"; echo
count 20 ceil

step 'Point the integration at MathFloor: the stage does not change until a deployment'
aws_ apigateway put-integration --rest-api-id "$API_ID" --resource-id "$ROOT_ID" --http-method GET \
  --type AWS --integration-http-method POST --uri "$(uri MathFloor)" --query uri --output text
aws_ lambda add-permission --function-name MathFloor --statement-id apigateway-get --action lambda:InvokeFunction \
  --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:$REGION:000000000000:$API_ID/*/GET/" > /dev/null 2>&1 || true
count 20 ceil

step 'Canary release: a deployment to prod with 10% of traffic'
aws_ apigateway create-deployment --rest-api-id "$API_ID" --stage-name prod --description 'MathFloor canary' \
  --canary-settings percentTraffic=10 --query id --output text
aws_ apigateway get-stage --rest-api-id "$API_ID" --stage-name prod --query '[deploymentId,canarySettings]' --output json
count 100 both

step 'Raise the canary to 50%'
aws_ apigateway update-stage --rest-api-id "$API_ID" --stage-name prod \
  --patch-operations op=replace,path=/canarySettings/percentTraffic,value=50.0 --query canarySettings.percentTraffic --output text
count 100 both

step 'Promote the canary: every request gets MathFloor'
aws_ apigateway update-stage --rest-api-id "$API_ID" --stage-name prod --patch-operations \
  op=replace,path=/canarySettings/percentTraffic,value=0.0 \
  op=copy,from=/canarySettings/deploymentId,path=/deploymentId \
  op=copy,from=/canarySettings/stageVariableOverrides,path=/variables \
  --query '[deploymentId,canarySettings]' --output json
count 20 floor

step 'Remove the canary settings'
aws_ apigateway update-stage --rest-api-id "$API_ID" --stage-name prod --patch-operations op=remove,path=/canarySettings --query '[deploymentId,canarySettings]' --output json
count 10 floor

step 'A bad change is refused and changes nothing: a canary share of 150%'
aws_ apigateway update-stage --rest-api-id "$API_ID" --stage-name prod \
  --patch-operations op=replace,path=/canarySettings/percentTraffic,value=150 2>&1 | tail -1 || true
aws_ apigateway get-stage --rest-api-id "$API_ID" --stage-name prod --query canarySettings --output json

printf '\nDone. The API %s stays; delete it with: aws --endpoint-url %s apigateway delete-rest-api --rest-api-id %s\n' "$API_ID" "$ENDPOINT" "$API_ID"
