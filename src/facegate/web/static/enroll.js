// Enrollment by photo upload: the quality gate's verdicts first, then only accepted photos
// are enrolled. Uses the same API as scripts (/api/v1/people/{id}/photos/check, /enrollment)
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
    var files = Array.prototype.slice.call(input.files);
    if (files.length === 0) { return; }
    status.textContent = words.busy;
    post("/photos/check", files).then(function (answer) {
      if (!answer.ok) { status.textContent = answer.body.detail || "error"; return; }
      show(answer.body, files);
    });
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
