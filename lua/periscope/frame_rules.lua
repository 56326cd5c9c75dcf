--[[ periscope.frame_rules — Sentry's built-in stack trace rules, as data.

Transcribed from Sentry's enhancement config all-platforms@2026-01-20 (the
base of the newstyle:2026-01-20 grouping config), in the same order: later
rules override earlier ones. Only rules that can fire outside the native
family are kept (those starting `family:native`, and the category chains
that only native categories reach, are left out: Periscope groups Python,
JavaScript/Node, Go, Java, PHP, Ruby and .NET events).

Each rule: `match` (all must hold for the frame), optional `caller` (the
frame before it, which called it) and `callee` (the frame after it), and
`set`: category = "...", app = true|false, group = true|false, and the
ranged forms app_up/group_up (every frame above, toward the crash) and
app_down/group_down (every frame below). Matchers: family ("javascript",
"native", "other"), module, func, path (abs_path or filename, lower-case,
`*` stays within one path segment), abs_path, package (globs), category
(exact; `not_category` negates), app.
]]

local R = {}
local function rule(match, set, ctx)
  ctx = ctx or {}
  R[#R + 1] = { match = match, set = set, caller = ctx.caller, callee = ctx.callee }
end
local function cat(match, c) rule(match, { category = c }) end

-- Categorization of frames
cat({ module = "dalvik.system.*" }, "system")
cat({ module = "com.android.*" }, "system")
cat({ package = "/apex/com.android.*/lib*/**" }, "system")
cat({ module = "com.lenovo.lsf.*" }, "system")
cat({ module = "com.lenovo.payplus.*" }, "system")
cat({ module = "java.*" }, "std")
cat({ module = "com.google.crypto.*" }, "std")
cat({ module = "com.google.android.*" }, "std")
cat({ module = "javax.crypto.*" }, "std")
cat({ module = "android.database.*" }, "std")
cat({ module = "androidx.*" }, "std")
cat({ module = "android.*" }, "std")
cat({ module = "android.os.*" }, "system")
cat({ module = "android.view.*" }, "ui")
cat({ module = "android.text.*" }, "ui")
cat({ module = "android.widget.*" }, "ui")
cat({ module = "android.app.Dialog" }, "ui")
cat({ module = "androidx.*.widget.*" }, "ui")
cat({ module = "com.google.android.material.*" }, "ui")
cat({ category = "ui", func = "handleMessage" }, "indirection")
cat({ category = "ui", func = "run" }, "indirection")
cat({ module = "android.os.AsyncTask*", func = "call" }, "threadbase")
cat({ module = "java.util.concurrent.ThreadPoolExecutor*", func = "runWorker" }, "threadbase")
cat({ module = "android.os.*", func = "call" }, "threadbase")
cat({ module = "android.app.ActivityThread", func = "main" }, "threadbase")
cat({ module = "android.view.View", func = "layout" }, "threadbase")
cat({ module = "android.os.Looper", func = "loop" }, "threadbase")
cat({ module = "android.os.Handler", func = "dispatchMessage" }, "threadbase")
cat({ module = "android.os.Handler", func = "handleCallback" }, "threadbase")
cat({ module = "android.app.ActivityThread*", func = "handleMessage" }, "threadbase")
cat({ module = "java.lang.reflect.*" }, "indirection")
cat({ module = "java.lang.Class", func = "getMethod" }, "indirection")
cat({ module = "androidx.work.impl.utils.ForceStopRunnable" }, "indirection")
cat({ module = "cn.gundam.sdk.*" }, "telemetry")
cat({ module = "com.lenovo.payplus.analytics.*" }, "telemetry")
cat({ package = "**/libBugly.so" }, "telemetry")
cat({ module = "java.lang.System", func = "loadLibrary" }, "load")
cat({ module = "java.lang.Runtime", func = "loadLibrary*" }, "load")

-- Python multiprocessing's fake module calling spawn_main
rule({ func = "<module>" }, { category = "internals" }, { callee = { func = "spawn_main" } })

-- A system frame wedged between two other frames is noise.
rule({ category = "system" }, { category = "indirection" },
  { caller = { not_category = "system" }, callee = { not_category = "system" } })

-- Only the outermost frame of a run of one kind counts.
for _, pair in ipairs({ { "system", "system" }, { "std", "system" }, { "std", "std" },
  { "ui", "ui" }, { "ui", "system" }, { "internals", "system" }, { "internals", "ui" },
  { "load", "system" }, { "load", "load" } }) do
  rule({ category = pair[2] }, { category = "internals" }, { caller = { category = pair[1] } })
end

-- Java frameworks
for _, m in ipairs({ "akka.*", "com.fasterxml.*", "com.microsoft.*", "com.sun.*", "feign.*",
  "io.opentelemetry.*" }) do
  cat({ module = m }, "framework")
end
rule({ module = "io.sentry.*" }, { category = "framework", group = false })
for _, m in ipairs({ "jdk.*", "oauth.*", "org.apache.*", "org.glassfish.*", "org.jboss.*",
  "org.jdesktop.*", "org.postgresql.*", "org.springframework.*", "org.web3j.*",
  "reactor.core.*", "scala.*", "sun.*" }) do
  cat({ module = m }, "framework")
end

-- Well known locations for unix paths
rule({ package = "/lib/**" }, { app = false })
rule({ package = "/usr/lib/**" }, { app = false })
rule({ path = "/usr/local/lib/**" }, { app = false })
rule({ path = "/usr/local/Cellar/**" }, { app = false })
rule({ path = "**/.local/share/**" }, { app = false })

-- Dart / Flutter
rule({ family = "javascript", abs_path = "org-dartlang-sdk:///**" }, { app = false, group = false })
rule({ family = "javascript", module = "**/packages/flutter/**" }, { app = false })
for _, p in ipairs({ "sentry", "sentry_flutter", "sentry_logging", "sentry_dio", "sentry_file",
  "sentry_hive", "sentry_isar", "sentry_sqflite", "sentry_drift" }) do
  rule({ abs_path = "package:" .. p .. "/**" }, { app = false, group = false })
end
for _, p in ipairs({ "sentry_isar", "sentry_link", "sentry_firebase_remote_config" }) do
  rule({ abs_path = "package:" .. p .. "/**" }, { app = false })
end

-- Categories decide app and group
rule({ category = "system" }, { app = false })
rule({ category = "threadbase" }, { group = false, group_down = false })
rule({ category = "telemetry" }, { app = false, group = false })
rule({ category = "indirection" }, { group = false })
rule({ category = "internals" }, { app = false, group = false })
rule({ category = "threadbase" }, { group_down = false, group = false })

-- SDK specific rules
rule({ path = "**/vendor/**" }, { app = false })
rule({ path = "**/site-packages/**" }, { app = false })
rule({ path = "**/dist-packages/**" }, { app = false })
rule({ path = "**/node_modules/**" }, { app = false })
rule({ module = "unpkg/**" }, { app = false })
for _, cdn in ipairs({ "unpkg.com", "cdnjs.cloudflare.com", "cdn.jsdelivr.net", "esm.run" }) do
  rule({ path = "**https://" .. cdn .. "/**" }, { app = false })
end
rule({ family = "javascript", func = "reportError" }, { app_up = false, app = false })
for _, m in ipairs({ "@babel/**", "core-js/**", "regenerator-runtime/**", "tslib/**" }) do
  rule({ module = m }, { app = false, group = false })
end
rule({ family = "javascript", func = "_callSuper" }, { app = false, group = false })
for _, f in ipairs({ "runMicrotasks", "queueMicrotask", "processTicksAndRejections",
  "runNextTicks", "nextTick" }) do
  rule({ func = f }, { app = false, group = false })
end
rule({ path = "**/go/pkg/mod/**" }, { app = false })
rule({ category = "framework" }, { app = false })
for _, m in ipairs({ "kotlin.*", "kotlinx.*", "io.ktor.*", "io.netty.*" }) do
  rule({ module = m }, { app = false })
end
rule({ module = "newrelic" }, { app = false, group = false })
rule({ path = "**/*newrelic*/**" }, { app = false, group = false })
rule({ path = "**/*LogRocket*/**" }, { app = false, group = false })

return R
