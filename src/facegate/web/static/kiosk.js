// The kiosk at a door: camera frames (getUserMedia) to POST /api/v1/doors/{door}/frames with
// the door's device key, the decision shown in plain words, and a card/PIN/QR fallback.
// A 503 answer with Retry-After means every frame worker of the server is busy, a 429 that
// this kiosk's key is over its request rate: no frame is sent before that time and nothing
// is said (the next frame decides; neither is a decision). Any other 503 means the server
// has no decision pipeline wired in (or no database), and a 429 to a card, PIN or QR code
// that it cannot take one now: say so, keep the fallback.
// While the gate still collects frames of a face (the liveness check's windows, or a face
// below the quality gate) it answers "pending": the page says "hold still" and sends the
// next frames quickly (the multi-frame liveness check follows the face from frame to
// frame), at most one request in flight; with nobody in view one frame every IDLE_MS.
// A card/PIN/QR answer is never overwritten by the answer to a frame sent before it.
// At a door in challenge mode the answer to a frame carries "challenge": the prompts the
// face must follow in order; the page shows the current one in plain words with a
// countdown (the server's remaining_s, counted down here between answers) and the step.
(function () {
  "use strict";
  var door = document.body.dataset.door;
  var words = {};
  var tpl = document.getElementById("kiosk-words").content;
  tpl.querySelectorAll("[data-key]").forEach(function (s) { words[s.dataset.key] = s.textContent; });
  tpl.querySelectorAll("[data-reason]").forEach(function (s) { words["reason:" + s.dataset.reason] = s.textContent; });
  tpl.querySelectorAll("[data-prompt]").forEach(function (s) { words["prompt:" + s.dataset.prompt] = s.textContent; });
  var panel = document.getElementById("challenge");
  var promptShown = document.getElementById("challenge-prompt");
  var countdown = document.getElementById("challenge-countdown");
  var stepShown = document.getElementById("challenge-step");
  var deadline = 0;        // when the current prompt's time runs out (ms), 0: no challenge
  var shown = document.getElementById("decision");
  var video = document.getElementById("camera");
  var canvas = document.getElementById("frame");
  var storageKey = "facegate-device-key:" + door;
  var busy = false;
  var holdUntil = 0;
  var IDLE_MS = 700;       // one frame every 0.7 s while nobody is in view
  var FAST_MS = 40;        // the shortest gap between frames while a face is pending
  var HOLD_MS = 4000;      // a decision stays on screen this long
  var pending = false;
  var lastSent = 0;
  var sent = 0;            // requests sent so far
  var typedAt = 0;         // the number of the last card/PIN/QR request
  var quietUntil = 0;      // after a "busy" answer, no frame before this time (ms)

  function key() { return window.localStorage.getItem(storageKey) || ""; }

  function say(text, kind, hold) {
    shown.textContent = text;
    shown.className = "decision " + kind;
    if (hold) { holdUntil = Date.now() + HOLD_MS; }
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function showCountdown() {
    if (!deadline) { return; }
    var left = Math.max(0, (deadline - Date.now()) / 1000);
    countdown.textContent = fill(words.challenge_seconds, { seconds: left.toFixed(1) });
  }

  function challengeShown(challenge) {
    if (!challenge || challenge.status !== "pending" || !challenge.prompt) {
      deadline = 0;
      panel.hidden = true;
      return;
    }
    promptShown.textContent = words["prompt:" + challenge.prompt] || challenge.prompt;
    promptShown.dataset.prompt = challenge.prompt;
    stepShown.textContent = fill(words.challenge_step, { step: challenge.step + 1, total: challenge.prompts.length });
    deadline = Date.now() + 1000 * challenge.remaining_s;
    showCountdown();
    panel.hidden = false;
  }

  function frameAnswer(body) {
    pending = body.pending === true;
    challengeShown(body.challenge);
    if (body.reason === "no_face") { return; }
    if (body.challenge && body.challenge.status === "pending") {
      say(words["prompt:" + body.challenge.prompt] || body.challenge.prompt, "idle pending challenge", false);
      return;
    }
    if (pending) { say(words.hold, "idle pending", false); return; }
    if (body.challenge && body.challenge.status === "failed") {
      say(words.refused + " " + words.challenge_failed, "refused", true);
      return;
    }
    decided(body);
  }

  function decided(body) {
    var reason = words["reason:" + body.reason] || body.reason;
    if (body.granted) { say(words.granted + " " + reason, "granted", true); }
    else { say(words.refused + " " + reason, "refused", true); }
  }

  function answer(response, sentAt, isFrame) {
    if (isFrame && sentAt < typedAt) { return null; }
    var retry = response.headers.get("Retry-After");
    var wait = response.status === 503 || response.status === 429;
    if (wait && isFrame && (retry || response.status === 429)) {
      quietUntil = Date.now() + 1000 * (parseFloat(retry) || 1);
      return null;
    }
    if (wait) { say(words.unavailable, "problem", true); return null; }
    if (response.status === 401 || response.status === 403) { say(words.bad_key, "problem", true); return null; }
    return response.json().then(function (body) {
      if (!response.ok) { say(words.error + " " + (body.detail || response.status), "problem", true); return; }
      if (isFrame) { frameAnswer(body); } else { decided(body); }
    });
  }

  function send(path, init) {
    if (!key()) { say(words.no_key, "problem", false); return Promise.resolve(); }
    init.headers = Object.assign({ "X-Device-Key": key() }, init.headers || {});
    sent += 1;
    var sentAt = sent;
    var isFrame = path === "/frames";
    if (!isFrame) { typedAt = sentAt; }
    return fetch("/api/v1/doors/" + encodeURIComponent(door) + path, init)
      .then(function (response) { return answer(response, sentAt, isFrame); })
      .catch(function () { say(words.error, "problem", true); });
  }

  function tick() {
    var now = Date.now();
    showCountdown();
    if (busy || now < holdUntil || now < quietUntil || !video.videoWidth || now - lastSent < (pending ? 0 : IDLE_MS)) { return; }
    lastSent = now;
    if (shown.className.indexOf("idle") < 0 && shown.className.indexOf("problem") < 0) { say(words.look, "idle", false); }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    busy = true;
    canvas.toBlob(function (blob) {
      var form = new FormData();
      form.append("file", blob, "frame.jpg");
      send("/frames", { method: "POST", body: form }).then(function () { busy = false; });
    }, "image/jpeg", 0.85);
  }

  document.getElementById("fallback").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = document.getElementById("fallback-value");
    send("/credentials", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: document.getElementById("fallback-kind").value, value: value.value })
    });
    value.value = "";
  });

  document.getElementById("save-key").addEventListener("click", function () {
    window.localStorage.setItem(storageKey, document.getElementById("device-key").value.trim());
    say(words.look, "idle", false);
  });

  var banner = document.getElementById("announcement");
  function announce() {
    fetch("/announcement.json").then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (!body) { return; }
      document.getElementById("announcement-text").textContent = body.text || "";
      banner.hidden = !body.text;
    }).catch(function () { /* keep what is shown */ });
  }
  window.setInterval(announce, 1000 * Number(banner.getAttribute("data-poll-s") || 60));

  if (!key()) { say(words.no_key, "problem", false); document.getElementById("setup").open = true; }
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
      .then(function (stream) { video.srcObject = stream; window.setInterval(tick, FAST_MS); })
      .catch(function () { say(words.no_camera, "problem", false); });
  } else {
    say(words.no_camera, "problem", false);
  }
})();
