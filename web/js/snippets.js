// snippets — how each official Sentry SDK is pointed at a DSN.
export const SNIPPETS = [
  ['Python', (dsn) => `pip install sentry-sdk

import sentry_sdk
sentry_sdk.init(dsn="${dsn}")`],
  ['JavaScript (browser)', (dsn) => `npm install @sentry/browser

import * as Sentry from "@sentry/browser";
Sentry.init({ dsn: "${dsn}" });`],
  ['Node.js', (dsn) => `npm install @sentry/node

const Sentry = require("@sentry/node");
Sentry.init({ dsn: "${dsn}" });`],
  ['Go', (dsn) => `go get github.com/getsentry/sentry-go

err := sentry.Init(sentry.ClientOptions{Dsn: "${dsn}"})
defer sentry.Flush(2 * time.Second)`],
  ['Ruby', (dsn) => `gem install sentry-ruby

require "sentry-ruby"
Sentry.init { |config| config.dsn = "${dsn}" }`],
  ['PHP', (dsn) => `composer require sentry/sentry

\\Sentry\\init(['dsn' => '${dsn}']);`],
  ['Java', (dsn) => `// io.sentry:sentry
import io.sentry.Sentry;

Sentry.init(options -> options.setDsn("${dsn}"));`],
  ['.NET', (dsn) => `dotnet add package Sentry

using (SentrySdk.Init(o => o.Dsn = "${dsn}"))
{
    // your app
}`],
];
