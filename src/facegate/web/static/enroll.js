// Enrollment by photo upload or from the device's camera (getUserMedia -> canvas -> JPEG):
// the quality gate's verdicts first, then only accepted photos are enrolled. Uses the same API as scripts (/api/v1/people/{id}/photos/check, /enrollment)
// with the session cookie and the page's CSRF token. No photo is kept by the server.
(function () {
  "use strict";
  var box = document.getElementById("enroll");
  if (!box) { return; }
  var person = box.dataset.person;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var words = document.getElementById("enroll-words").content.firstElementChild.dataset;
  var input = document.getElementById("photos");
  var list = document.getElementById("verdicts");
  var enrollButton = document.getElementById("enroll-accepted");
  var status = document.getElementById("enroll-status");
  var accepted = [];
  var captured = [];
  var video = document.getElementById("enroll-camera");
  var takeButton = document.getElementById("take-photo");
  var capturedNote = document.getElementById("captured");

  function post(path, files) {
    var form = new FormData();
    files.forEach(function (f) { form.append("files", f, f.name); });
    return fetch("/api/v1/people/" + encodeURIComponent(person) + path, {
      method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }

  function show(verdicts, files) {
    list.textContent = "";
    accepted = [];
    verdicts.forEach(function (v, i) {
      var li = document.createElement("li");
      li.className = v.accepted ? "ok" : "error";
      li.textContent = files[i].name + ": " + (v.accepted ? words.ok : v.reason);
      list.appendChild(li);
      if (v.accepted) { accepted.push(files[i]); }
    });
    enrollButton.disabled = accepted.length === 0;
    status.textContent = accepted.length === 0 ? words.none : "";
  }

  document.getElementById("check-photos").addEventListener("click", function () {
    var files = Array.prototype.slice.call(input.files).concat(captured);
    if (files.length === 0) { return; }
    status.textContent = words.busy;
    post("/photos/check", files).then(function (answer) {
      if (!answer.ok) { status.textContent = answer.body.detail || "error"; return; }
      show(answer.body, files);
    });
  });

  document.getElementById("start-camera").addEventListener("click", function () {
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      capturedNote.textContent = words.noCamera;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        takeButton.hidden = false;
      })
      .catch(function () { capturedNote.textContent = words.noCamera; });
  });

  takeButton.addEventListener("click", function () {
    if (!video.videoWidth) { return; }
    var canvas = document.getElementById("enroll-frame");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      var name = "camera-" + (captured.length + 1) + ".jpg";
      captured.push(new File([blob], name, { type: "image/jpeg" }));
      capturedNote.textContent = words.captured.replace("{count}", captured.length);
    }, "image/jpeg", 0.92);
  });

  enrollButton.addEventListener("click", function () {
    enrollButton.disabled = true;
    status.textContent = words.busy;
    post("/enrollment", accepted).then(function (answer) {
      if (!answer.ok) { status.textContent = answer.body.detail || "error"; return; }
      status.textContent = words.done.replace("{count}", answer.body.enrolled);
      window.location.reload();
    });
  });
})();
