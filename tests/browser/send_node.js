// Sends one real @sentry/node event for the browser tests:
//   NODE_PATH=<node_modules with @sentry/node> node send_node.js DSN
const Sentry = require('@sentry/node');

Sentry.init({dsn: process.argv[2], release: 'api@7.0.1', environment: 'staging', defaultIntegrations: false});

function parseOrder(text) {
  return JSON.parse(text).order.id; // TypeError on a missing order
}

try {
  parseOrder('{"customer": 7}');
} catch (e) {
  Sentry.captureException(e);
}
Sentry.flush(10000).then(() => console.log(JSON.stringify({sent: true})));
