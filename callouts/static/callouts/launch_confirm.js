// The launch confirmation page (admin/callouts/callout/launch_confirm.html).
// A second click must not send a second launch; the idempotency key guards the server side too.
document.getElementById("launch-confirm").addEventListener("submit", function (event) {
  "use strict";
  if (this.dataset.sent) { event.preventDefault(); } else { this.dataset.sent = "yes"; }
});
