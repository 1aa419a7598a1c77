#!/usr/bin/env bash
# The versions-and-aliases tutorial, step by step, with the AWS CLI against a running Versa.
#   1. start Versa in another terminal:   npm start
#   2. run this script:                   examples/versions-and-aliases/walk.sh
# Needs the AWS CLI (`aws`) and python3 (to build the zip files). Safe to run twice: it starts by
# deleting the demo function.
set -euo pipefail

ENDPOINT="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_PAGER=""
FN=lambda-version-demo
lambda() { aws --endpoint-url "$ENDPOINT" lambda "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

package() { # package "<text the handler returns>" → $work/function.zip
  printf 'def lambda_handler(event, context):\n    return "%s"\n' "$1" > "$work/lambda_function.py"
  (cd "$work" && rm -f function.zip && python3 -m zipfile -c function.zip lambda_function.py)
}
invoke() { # invoke <qualifier>: prints the answer and the version that ran
  lambda invoke --function-name "$FN" --qualifier "$1" "$work/out.json" --query ExecutedVersion --output text > "$work/version.txt"
  printf '%-8s → %s (version %s)\n' "$1" "$(cat "$work/out.json")" "$(cat "$work/version.txt")"
}

lambda delete-function --function-name "$FN" 2>/dev/null || true

step 'Create the function ($LATEST) and invoke it'
package 'this is version one.'
lambda create-function --function-name "$FN" --runtime python3.12 --handler lambda_function.lambda_handler \
  --role arn:aws:iam::000000000000:role/lambda-role --zip-file "fileb://$work/function.zip" --query '[FunctionName,State]' --output text
invoke '$LATEST'

step 'Publish version 1'
lambda publish-version --function-name "$FN" --description 'first version' --query '[Version,Description]' --output text

step 'Change the code and publish version 2'
package 'this is version two.'
lambda update-function-code --function-name "$FN" --zip-file "fileb://$work/function.zip" --query CodeSha256 --output text
lambda publish-version --function-name "$FN" --description 'second version' --query '[Version,Description]' --output text

step 'Aliases: dev → $LATEST, test → 2, prod → 1'
lambda create-alias --function-name "$FN" --name dev --function-version '$LATEST' --query AliasArn --output text
lambda create-alias --function-name "$FN" --name test --function-version 2 --query AliasArn --output text
lambda create-alias --function-name "$FN" --name prod --function-version 1 --query AliasArn --output text
invoke dev
invoke test
invoke prod

step 'Weighted alias: prod sends 50% to version 2'
lambda update-alias --function-name "$FN" --name prod --routing-config '{"AdditionalVersionWeights":{"2":0.5}}' --query RoutingConfig --output json
for _ in 1 2 3 4 5 6; do invoke prod; done
node "$(cd "$(dirname "$0")/../.." && pwd)/bin/versa.js" invoke "$FN:prod" --count 100 --endpoint-url "$ENDPOINT"

step 'A bad request changes nothing: a weight above 1 is refused'
lambda update-alias --function-name "$FN" --name prod --routing-config '{"AdditionalVersionWeights":{"2":1.5}}' 2>&1 | tail -1 || true
lambda get-alias --function-name "$FN" --name prod --query '[FunctionVersion,RoutingConfig]' --output json

step 'Promote: prod wholly on version 2'
lambda update-alias --function-name "$FN" --name prod --function-version 2 --routing-config '{"AdditionalVersionWeights":{}}' --query '[FunctionVersion,RoutingConfig]' --output json
invoke prod

printf '\nDone. Stop and restart Versa: the function, its versions and aliases are still there.\n'
