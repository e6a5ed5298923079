// A second click on "Launch callout now" must not send a second launch; the idempotency key guards the server too.
// A file rather than an inline script, so the page works under a Content-Security-Policy without 'unsafe-inline'.
document.getElementById("launch-confirm").addEventListener("submit", function (event) {
  if (this.dataset.sent) { event.preventDefault(); } else { this.dataset.sent = "yes"; }
});
