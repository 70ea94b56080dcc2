// TTS web UI: progressive enhancement only; every page and form works without this script.
// It asks before a `data-confirm` button destroys something, keeps a button from being pressed twice
// while its form is on its way, and follows the live feed
// (`data-live` on <body>, signed-in pages only): a notification bumps the header's unread badge, and on
// a ticket page (`#ticket`) an event about the ticket or its task refreshes the regions marked
// `data-live-region` from a fresh copy of the page, leaving alone a region the user is typing in.
"use strict";
// Tells the stylesheet (and the browser tests) that the script runs.
document.documentElement.dataset.js = "on";
document.addEventListener("submit", function (event) {
  var form = event.target;
  // A button that destroys something (`data-confirm`) asks first; without the script it just posts.
  var button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  window.setTimeout(function () { form.dataset.sent = ""; }, 5000);
});

(function () {
  var live = document.body && document.body.dataset.live;
  if (!live || !window.WebSocket || !window.fetch || !window.DOMParser) {
    return;
  }
  var ticket = document.getElementById("ticket");
  var delay = 1000; // before the next reconnect; doubles up to a minute
  var connected = false; // a feed was open before
  var timer = null; // the pending refresh
  var busy = false; // a refresh is on its way
  var again = false; // events came while it was
  var stale = false; // a region was left alone because the user was at work in it

  function bumpBadge() {
    var link = document.getElementById("nav-notifications");
    if (!link) {
      return;
    }
    var badge = document.getElementById("unread");
    if (!badge) {
      badge = document.createElement("span");
      badge.id = "unread";
      badge.className = "badge";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
  }

  // Whether an event is about this page's ticket: ticket, comment and attachment events name the
  // ticket's id, escalations and transfers its task, notifications its number.
  function concerns(event) {
    var d = ticket.dataset;
    if (event.type === "notification") {
      return event.related_ticket === d.liveNumber;
    }
    if (event.ticket !== undefined && event.ticket !== null) {
      return String(event.ticket) === d.liveTicket;
    }
    return d.liveTask !== "" && event.task === d.liveTask;
  }

  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].defaultSelected) {
          return field.selectedIndex !== i;
        }
      }
      return field.selectedIndex > 0;
    }
    return field.value !== field.defaultValue;
  }

  // Whether the user is at work in a region: it holds the focus, or a field with unsent input.
  function editing(region) {
    if (region.contains(document.activeElement)) {
      return true;
    }
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      if (changed(fields[i])) {
        return true;
      }
    }
    return false;
  }

  function schedule(wait) {
    if (timer === null) {
      timer = window.setTimeout(refresh, wait);
    }
  }

  function refresh() {
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 429) {
          again = false;
          schedule(1000 * (parseInt(response.headers.get("Retry-After"), 10) || 5));
        }
        // A session that ended lands on the sign-in page: nothing there to take.
        if (!response.ok || response.redirected) {
          throw new Error("no fresh page");
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var regions = document.querySelectorAll("[data-live-region]");
        stale = false;
        for (var i = 0; i < regions.length; i++) {
          var next = fresh.getElementById(regions[i].id);
          if (next && editing(regions[i])) {
            stale = true;
          } else if (next) {
            regions[i].replaceWith(document.importNode(next, true));
          }
        }
        var root = fresh.getElementById("ticket");
        if (root) {
          ticket.dataset.liveTask = root.dataset.liveTask || "";
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule(200);
        }
      });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + live);
    var since = 0; // when this socket opened (ms)
    socket.addEventListener("open", function () {
      // After a reconnect, catch up with what happened while the feed was down.
      if (connected && ticket) {
        schedule(200);
      }
      connected = true;
      since = Date.now();
    });
    socket.addEventListener("message", function (message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (event.type === "notification") {
        bumpBadge();
      }
      // Several events in a burst (an action moves the step, assigns, notifies) make one refresh.
      if (ticket && concerns(event)) {
        schedule(200);
      }
    });
    socket.addEventListener("close", function (event) {
      // 4003: the session ended; 4001: it expired. Signing in again loads a new page anyway.
      if (event.code === 4003 || event.code === 4001) {
        return;
      }
      // A feed that stayed up a while starts the backoff over; one that keeps failing waits longer.
      if (since !== 0 && Date.now() - since > 10000) {
        delay = 1000;
      }
      window.setTimeout(connect, delay + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 60000);
    });
  }

  // A region skipped while the user was in it is brought up to date once they leave it with nothing
  // unsent (the focus has moved on by the time the timeout runs).
  if (ticket) {
    document.addEventListener("focusout", function () {
      window.setTimeout(function () {
        var regions = document.querySelectorAll("[data-live-region]");
        for (var i = 0; stale && i < regions.length; i++) {
          if (editing(regions[i])) {
            return;
          }
        }
        if (stale) {
          schedule(200);
        }
      }, 0);
    });
  }

  connect();
}());
