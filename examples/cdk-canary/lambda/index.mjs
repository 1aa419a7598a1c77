export const handler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({ message: 'hello from cdk v1', healthy: true, path: event.path }),
});
