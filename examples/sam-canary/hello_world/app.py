import json

MESSAGE = "hello world v1"


def lambda_handler(event, context):
    # The pre-traffic hook sends a health check before any user traffic reaches a new version.
    if event.get("healthCheck"):
        return {"healthy": True}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": MESSAGE}),
    }
