// Jedel volunteer app: keep the shell (page, script, style) so the app opens without signal.
// API calls always go to the network; answers made offline are queued by the page itself.
const SHELL = "jedel-app-v1";
const FILES = ["/app", "/static/app/app.js", "/static/app/app.css", "/static/app/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.pathname.startsWith("/api/")) return;
  // Network first (the newest page when there is signal), the kept copy when there is none.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && FILES.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(SHELL).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname)),
  );
});
