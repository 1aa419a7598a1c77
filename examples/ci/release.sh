#!/usr/bin/env bash
# Releases a SAM project to Versa as a pipeline does on every push (tutorial 003 §4.1): the code is
# packaged into S3, the template is deployed through CloudFormation — whose change set publishes the
# new version and hands the alias to a CodeDeploy canary with its hooks and alarms — and the build
# fails when the release is rolled back.
#
#   release.sh PROJECT_DIR STACK_NAME
#
# Needs the AWS CLI; talks to $AWS_ENDPOINT_URL (default http://127.0.0.1:4566) with the usual AWS
# credential variables. ARTIFACT_BUCKET names the S3 bucket for the code (default versa-artifacts).
set -euo pipefail

project=${1:?usage: release.sh PROJECT_DIR STACK_NAME}
stack=${2:?usage: release.sh PROJECT_DIR STACK_NAME}
bucket=${ARTIFACT_BUCKET:-versa-artifacts}
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

aws s3api head-bucket --bucket "$bucket" > /dev/null 2>&1 || aws s3 mb "s3://$bucket" > /dev/null

packaged=$(mktemp)
trap 'rm -f "$packaged"' EXIT
aws cloudformation package --template-file "$project/template.yaml" --s3-bucket "$bucket" \
  --output-template-file "$packaged" > /dev/null

echo "Deploying $stack..."
if aws cloudformation deploy --template-file "$packaged" --stack-name "$stack" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset; then
  echo "Released: $(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text)"
  exit 0
fi

# The deploy failed: say why, with the stack's own story, and fail the build.
status=$(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text)
reason=$(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatusReason' --output text)
echo "Release failed: the stack is $status" >&2
echo "$reason" >&2
echo "Latest events:" >&2
aws cloudformation describe-stack-events --stack-name "$stack" --max-items 12 \
  --query 'StackEvents[].[Timestamp,LogicalResourceId,ResourceStatus,ResourceStatusReason]' --output text >&2 || true
exit 1
