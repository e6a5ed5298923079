// The live page of a callout (admin/callouts/callout/live.html): updates every 2 seconds, counts down, and
// says when the session will lock. The updates are made by the page, not the person, so they do not keep the
// session alive; a click or key press on the page does (it tells the server, at most every 30 seconds).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var timeline = document.getElementById("live-timeline");
  var status = document.getElementById("live-status");
  var lock = document.getElementById("session-lock");
  var offset = 0;  // server clock minus ours, so the countdowns match the server's timers
  var ended = false;
  var lastKeepalive = Date.now();
  var KEEPALIVE_EVERY = 30000;

  // The 24-hour clock in the operator's zone (the server's TIME_ZONE), as the rest of the page shows times,
  // whatever the browser's locale and zone.
  function timeOfDay(date, seconds) {
    var options = {hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
    if (live.dataset.timeZone) { options.timeZone = live.dataset.timeZone; }
    if (seconds) { options.second = "2-digit"; }
    return date.toLocaleTimeString([], options);
  }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    var mmss = String(m).padStart(h ? 2 : 1, "0") + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mmss : mmss;
  }
  function tick() {
    var now = Date.now() + offset;
    live.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = clock((now - Date.parse(el.dataset.since)) / 1000);
    });
    live.querySelectorAll("[data-until]").forEach(function (el) {
      var left = (Date.parse(el.dataset.until) - now) / 1000;
      el.textContent = left >= 0 ? "in " + clock(left) : "overdue by " + clock(-left);
    });
    showLock(now);
  }
  function showLock(now) {
    if (ended || !lock.dataset.locksAt) { return; }
    var at = new Date(Date.parse(lock.dataset.locksAt));
    var left = (at.getTime() - now) / 1000;
    if (left <= 0) { return sessionEnded(); }
    var time = timeOfDay(at, false);
    lock.className = left < 300 ? "errornote" : "callout-quiet";
    if (lock.dataset.endsAt && at.getTime() >= Date.parse(lock.dataset.endsAt)) {
      lock.textContent = "Your session reaches its time limit at " + time + " (in " + clock(left) +
        ") whatever you do: then log in again.";
    } else {
      lock.textContent = "The updates alone do not keep you logged in: this session locks at " + time +
        " (in " + clock(left) + ") unless you click or type on the page.";
    }
  }
  // Once: the countdown and a poll in flight can both find the session over, and the second must not redraw the
  // message (and its link) under the person's pointer.
  function sessionEnded() {
    if (ended) { return; }
    ended = true;
    status.className = "callout-quiet";
    status.textContent = "Live updates stopped at " + timeOfDay(new Date(), true) + ".";
    lock.className = "errornote";
    lock.replaceChildren("Your session has ended: what this page shows is no longer updated. ");
    var again = document.createElement("a");
    again.href = lock.dataset.loginUrl;
    again.textContent = "Log in again";
    lock.append(again);
  }
  // Every action box keeps its place as the state changes (nothing jumps under the pointer): those the new state
  // does not allow are disabled, saying why. "Escalate now" says, and asks, what it would do now.
  function showActions() {
    var shown = live.querySelector("[data-state]");
    var state = shown.dataset.state;
    var escalate = document.getElementById("action-escalate");
    if (escalate) {
      escalate.dataset.confirm = shown.dataset.escalateConfirm;
      escalate.querySelector(".callout-action-what").dataset.what = shown.dataset.escalateWhat;
    }
    document.querySelectorAll("form[data-states]").forEach(function (form) {
      var off = form.dataset.states.split(" ").indexOf(state) < 0;
      var what = form.querySelector(".callout-action-what");
      form.querySelector("fieldset").disabled = off;
      form.classList.toggle("callout-action-off", off);
      what.classList.toggle("callout-action-note", off);
      // The reason takes the place of the description, so the box keeps its size.
      what.textContent = off ? "Not while the callout is " + shown.dataset.stateLabel + "." : what.dataset.what;
    });
  }
  function showProblems(problems) {
    var banner = document.getElementById("callout-banner");
    if (!banner) { return; }
    banner.replaceChildren.apply(banner, problems.map(function (problem) {
      var item = document.createElement("li");
      item.className = "error";
      item.textContent = problem;
      return item;
    }));
    banner.hidden = !problems.length;
  }
  function refresh(data) {
    live.innerHTML = data.html;
    timeline.innerHTML = data.timeline_html;
    showProblems(data.problems);
    offset = Date.parse(data.now) - Date.now();
    if (data.session_locks_at) { lock.dataset.locksAt = data.session_locks_at; }
    tick();
    showActions();
    status.className = "callout-quiet";
    status.textContent = "Updated " + timeOfDay(new Date(), true) + "; updates every 2 seconds.";
  }
  // A JSON answer, or null when the session has ended (the admin then answers with its login page).
  function json(response) {
    var type = response.headers.get("Content-Type") || "";
    if (response.redirected || response.status === 401 || response.status === 403 ||
        (response.ok && type.indexOf("application/json") < 0)) { return null; }
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }
  function poll() {
    fetch(live.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(json)
      .then(function (data) { if (data) { refresh(data); } else { sessionEnded(); } })
      .catch(function () {
        status.className = "errornote";
        status.textContent = "Live updates stopped at " + timeOfDay(new Date(), true) +
          ": retrying. Reload the page if this stays.";
      })
      .finally(function () { if (!ended) { window.setTimeout(poll, 2000); } });
  }
  function keepalive() {
    if (ended || Date.now() - lastKeepalive < KEEPALIVE_EVERY) { return; }
    lastKeepalive = Date.now();
    fetch(lock.dataset.keepaliveUrl, {method: "POST", credentials: "same-origin",
                                      headers: {Accept: "application/json", "X-CSRFToken": lock.dataset.csrfToken}})
      .then(json)
      .then(function (data) {
        if (!data) { return sessionEnded(); }
        lock.dataset.locksAt = data.locks_at;
        tick();
      })
      .catch(function () { lastKeepalive = 0; });  // try again at the next click
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  document.addEventListener("click", keepalive, true);
  document.addEventListener("keydown", keepalive, true);
  offset = Date.parse(live.querySelector("[data-now]").dataset.now) - Date.now();
  tick();
  showActions();
  window.setInterval(tick, 1000);
  window.setTimeout(poll, 2000);
})();
