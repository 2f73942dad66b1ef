// Vertaal's pages: a character counter and recent jobs on the form, live progress on a job,
// Escape for the notes of flagged sentences.
// Everything an article contains reaches the page through the server's escaped HTML or through
// textContent; this script never builds HTML from data.
(function () {
  "use strict";

  var RECENT_KEY = "vertaal.recent";
  var RECENT_MAX = 10;
  var LABEL_MAX = 80;
  var POLL_MS = 600;
  var FINAL = ["done", "failed", "cancelled"];

  function recentJobs() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (error) {
      return [];
    }
  }

  function remember(job) {
    var others = recentJobs().filter(function (item) { return item.id !== job.id; });
    var previous = recentJobs().find(function (item) { return item.id === job.id; }) || {};
    var text = job.label || previous.label || "Pasted article";
    var entry = {
      id: job.id,
      label: text.length > LABEL_MAX ? text.slice(0, LABEL_MAX - 1) + "…" : text,
      status: job.status,
      at: previous.at || new Date().toISOString()
    };
    try {
      window.localStorage.setItem(RECENT_KEY, JSON.stringify([entry].concat(others).slice(0, RECENT_MAX)));
    } catch (error) {
      // Storage may be full or disabled; the list is a convenience only.
    }
  }

  // Characters as the server counts them (code points): a surrogate pair is one.
  function characters(value) {
    return value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;
  }

  // The front page: count characters against the limit, list this browser's recent jobs.
  function initForm(form) {
    var text = form.querySelector("#text");
    var counter = document.querySelector("[data-testid=char-count]");
    var limit = Number(form.dataset.limit);
    function update() {
      var count = characters(text.value);
      counter.textContent = count.toLocaleString("en");
      counter.parentElement.classList.toggle("over", count > limit);
    }
    text.addEventListener("input", update);
    update();

    var jobs = recentJobs();
    var list = document.getElementById("recent-list");
    if (!list || jobs.length === 0) return;
    jobs.forEach(function (job) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/jobs/" + encodeURIComponent(job.id);
      link.textContent = job.label;
      var meta = document.createElement("span");
      meta.className = "hint";
      meta.textContent = " · " + job.status + " · " + new Date(job.at).toLocaleString();
      item.appendChild(link);
      item.appendChild(meta);
      list.appendChild(item);
    });
    document.getElementById("recent").hidden = false;
  }

  // The job page: poll the job API for progress; when the job ends, fetch the rendered panel.
  // The words for each stage come from the page (the server renders the first paint).
  function initJob(root) {
    var panel = document.getElementById("job-panel");
    var stages = JSON.parse(root.dataset.stages || "{}");

    function label(job) {
      var result = job.result;
      if (result && result.translation && result.translation.title) return result.translation.title;
      if (job.filename) return job.filename;
      if (result && result.source.paragraphs.length) return result.source.paragraphs[0].join(" ");
      return root.dataset.label || "Pasted article";
    }

    function showProgress(job) {
      var bar = document.getElementById("progress");
      var line = document.getElementById("progress-text");
      var heading = document.getElementById("job-heading");
      if (!bar || !line || !heading) return;
      var progress = job.progress;
      if (progress.total > 0) {
        bar.max = progress.total;
        bar.value = progress.done;
        bar.setAttribute("aria-valuemin", "0");
        bar.setAttribute("aria-valuemax", String(progress.total));
        bar.setAttribute("aria-valuenow", String(progress.done));
      } else { // no amount to show yet (waiting, starting, reading): the bar shows activity
        bar.removeAttribute("value");
        bar.removeAttribute("aria-valuenow");
      }
      var words = stages[progress.stage] || [heading.textContent, progress.stage];
      heading.textContent = words[0];
      var text = words[1]
        .replace("{done}", progress.done.toLocaleString("en"))
        .replace("{total}", progress.total.toLocaleString("en"));
      // A job whose worker died starts over; say so rather than let progress jump back.
      if (progress.attempt > 1) text += " (attempt " + progress.attempt + ")";
      line.textContent = text;
    }

    function replacePanel() {
      return fetch(root.dataset.panel, { headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          panel.innerHTML = html; // server-rendered, escaped by Jinja
          bindPanel();
        });
    }

    function shownStatus() {
      return panel.querySelector(".job-state").dataset.status;
    }

    // Runs once on load (to remember the job under its title) and keeps running while the
    // job is active; a job that ends swaps in the server-rendered panel for its new status.
    function poll() {
      fetch(root.dataset.api, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (job) {
          if (!job.id) return window.setTimeout(poll, POLL_MS * 3); // an error body
          remember({ id: job.id, label: label(job), status: job.status });
          if (FINAL.indexOf(job.status) < 0) {
            showProgress(job);
            return window.setTimeout(poll, POLL_MS);
          }
          if (shownStatus() !== job.status) replacePanel();
        })
        .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
    }

    function bindPanel() {
      var toggle = panel.querySelector("[data-action=side-by-side]");
      if (toggle) {
        toggle.addEventListener("change", function () {
          document.getElementById("translation").classList.toggle("side-by-side", toggle.checked);
        });
      }
      var copy = panel.querySelector("[data-action=copy]");
      if (copy) copy.addEventListener("click", copyTranslation);
    }

    function copyTranslation() {
      var parts = [];
      var title = panel.querySelector("[data-testid=title]");
      if (title) parts.push(readText(title));
      panel.querySelectorAll("[data-testid=translation-paragraph]").forEach(function (p) {
        parts.push(readText(p));
      });
      var status = document.getElementById("copy-status");
      navigator.clipboard.writeText(parts.join("\n\n")).then(
        function () { status.textContent = "Copied."; },
        function () { status.textContent = "Copying is not allowed here; select the text instead."; }
      );
    }

    bindPanel();
    poll();
  }

  // An element's text without the notes of its flagged sentences.
  function readText(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll(".flag-note").forEach(function (note) { note.remove(); });
    return copy.textContent.trim();
  }

  // A flagged sentence's note shows on hover and focus (CSS); Escape hides the open ones
  // until the pointer or the focus leaves their sentence (WCAG 1.4.13: dismissible).
  function initFlagNotes() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll(".checked:hover, .checked:focus-within").forEach(function (item) {
        item.classList.add("dismissed");
      });
    });
    function reopen(event) {
      var item = event.target.closest ? event.target.closest(".checked") : null;
      if (item && !item.contains(event.relatedTarget)) item.classList.remove("dismissed");
    }
    document.addEventListener("focusout", reopen);
    document.addEventListener("mouseout", reopen);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initFlagNotes();
    var form = document.getElementById("article-form");
    if (form) initForm(form);
    var job = document.getElementById("job");
    if (job) initJob(job);
  });
})();
