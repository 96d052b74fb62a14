// The ticket page's live parts (tickets/admin/live.py): every few seconds, tell the server
// that this page is open (and whether its user is writing a reply or a note), show who
// else has the ticket open, and append the thread entries that arrived meanwhile with a
// banner. The reply form's own "seen" fields are left as they were rendered, so a reply
// written before the new entries arrived is still refused as stale by the server.
// A file, not an inline script: the strict Content-Security-Policy allows no other.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var live = document.getElementById("live");
  if (!live) {
    return;
  }
  var url = live.getAttribute("data-url");
  var pollMs = Math.max(parseFloat(live.getAttribute("data-poll")) || 5, 0.5) * 1000;
  var csrf = live.getAttribute("data-csrf");
  var seenMessage = live.getAttribute("data-seen-message");
  var seenNote = live.getAttribute("data-seen-note");
  var version = live.getAttribute("data-version");
  var presence = document.getElementById("presence");
  var banner = document.getElementById("live-banner");
  var thread = document.getElementById("thread");
  var reply = document.getElementById("reply-text");
  var noteForm = document.querySelector("form.note-form textarea");
  var typing = { REPLYING: 0, NOTING: 0 };
  var TYPING_MS = 30000;

  function watch(box, state) {
    if (box) {
      box.addEventListener("input", function () {
        typing[state] = Date.now();
      });
    }
  }
  watch(reply, "REPLYING");
  watch(noteForm, "NOTING");

  function state() {
    var now = Date.now();
    if (reply && reply.value.trim() && now - typing.REPLYING < TYPING_MS) {
      return "REPLYING";
    }
    if (noteForm && noteForm.value.trim() && now - typing.NOTING < TYPING_MS) {
      return "NOTING";
    }
    return "VIEWING";
  }

  function showPresence(people) {
    presence.textContent = "";
    people.forEach(function (p) {
      var span = document.createElement("span");
      span.className = "presence-person presence-" + p.state;
      span.textContent = p.name + " is " + p.doing;
      presence.appendChild(span);
    });
  }

  function say(text) {
    banner.textContent = text;
    banner.hidden = false;
  }

  function showEntries(data) {
    if (data.new > 0 && thread) {
      var empty = thread.querySelector("li.msg-system:only-child");
      if (empty && !empty.id) {
        empty.remove();
      }
      thread.insertAdjacentHTML("beforeend", data.entries);
      say(
        data.new +
          (data.new === 1 ? " new entry" : " new entries") +
          " arrived while you were reading (marked new below)."
      );
    }
    seenMessage = String(data.seen[0]);
    seenNote = String(data.seen[1]);
    if (data.version !== version) {
      version = data.version;
      say("This ticket was changed meanwhile (status: " + data.status + "). Reload the page to act on its current state.");
    }
  }

  function beat() {
    var body = new FormData();
    body.append("state", state());
    body.append("seen_message", seenMessage);
    body.append("seen_note", seenNote);
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("presence: " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        showPresence(data.present);
        showEntries(data);
        window.setTimeout(beat, pollMs);
      })
      .catch(function () {
        // A failed poll (signed out, network): try again later, a little slower.
        window.setTimeout(beat, pollMs * 3);
      });
  }
  beat();
});
