/* The field app's entry: registers the service worker that keeps the shell for offline use. */
const root = document.documentElement;

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope });
}
