// The page's script (page.html); served as /static/page.js: the page's CSP allows no inline script.
const $ = (id) => document.getElementById(id);
// The key is traded for a session (an HttpOnly cookie the page cannot read) and then forgotten: it is never
// kept in the page, in storage or in a URL. Older pages kept it in localStorage and a cookie: both removed.
localStorage.removeItem("callsort-key");
document.cookie = "callsort_key=; path=/; max-age=0";
let signedIn = null, learns = false;  // learns: a service with no --model (healthz says)
async function who() {
  const s = await (await fetch("v1/session")).json();
  signedIn = s.role;
  $("who").textContent = s.open ? "open service (started with --no-auth)" : s.role ? `signed in (${s.role})` : "";
  $("signin").hidden = !!s.role; $("signout").hidden = !s.role || s.open; $("report-link").hidden = !s.role;
  return s.role;
}
async function signIn() {
  const r = await fetch("v1/session", {method: "POST", headers: {"content-type": "application/json"},
                                       body: JSON.stringify({key: $("key").value})});
  $("key").value = "";
  if (!r.ok) { $("who").textContent = "wrong key"; return; }
  await who(); refreshBatches(); if (learns) loadLearn();
  if (location.hash.startsWith("#call=")) showTab("callbacks");
}
$("signin-go").addEventListener("click", signIn);
$("key").addEventListener("keydown", (e) => { if (e.key === "Enter") signIn(); });
$("signout").addEventListener("click", async () => { await fetch("v1/session", {method: "DELETE"}); await who(); });

async function api(path, options = {}) {
  const r = await fetch(path, options);  // same origin: the session cookie goes along
  const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(data.detail || r.statusText);
  return data;
}

fetch("healthz").then(r => r.json()).then(async h => {
  $("model").textContent = `model ${h.model} · ${h.labels.length} categories · speech ${h.asr_model}`;
  const signed = await who();
  if (signed && h.review) refreshBatches();
  if (h.review) document.querySelectorAll("nav [hidden]:not(.learning)").forEach(b => b.hidden = false);
  learns = h.learning;
  if (signed && learns) loadLearn();
  if (signed && h.review && location.hash.startsWith("#call=")) showTab("callbacks");
});
document.querySelectorAll("nav button").forEach(b => b.addEventListener("click", () => showTab(b.dataset.tab)));
function showTab(name, load = true) {  // load: fetch the tab's contents (not when a call is opened in it)
  document.querySelectorAll("nav button").forEach(b => b.classList.toggle("on", b.dataset.tab === name));
  document.querySelectorAll("section").forEach(s => s.hidden = s.id !== `tab-${name}`);
  if (!load) return;
  if (name === "queue") loadQueue();
  if (name === "batch" && signedIn) pollBatch();  // corrections made in the queue show at once
  if (name === "callbacks") loadCallbacks();
  if (name === "learn") loadLearn();
}

// ---- one call ---------------------------------------------------------------------------------
async function send(body, extra) {
  $("error").textContent = ""; $("busy").textContent = "working…"; $("result").hidden = true;
  try {
    show(await api("v1/classify", {method: "POST", body, headers: extra}));
  } catch (e) {
    $("error").textContent = "Error: " + e.message;
  } finally {
    $("busy").textContent = "";
  }
}
function bars(target, probabilities) {
  target.replaceChildren();
  Object.entries(probabilities).sort((a, b) => b[1] - a[1]).forEach(([name, p]) => {
    const row = document.createElement("div"); row.className = "bar";
    const label = document.createElement("span"); label.textContent = `${name} ${(p * 100).toFixed(1)}%`;
    const bar = document.createElement("div"); bar.style.width = `${Math.max(p * 20, 0.1)}rem`;
    row.append(label, bar); target.append(row);
  });
}
function show(d) {
  $("label").textContent = d.label;
  $("confidence").textContent = `(${Math.round(d.confidence * 100)}%)`;
  $("review").textContent = d.needs_review ? "needs review" : "";
  bars($("bars"), d.probabilities);
  const hasTranscript = d.transcript !== undefined && d.transcript !== null;
  $("transcript-title").hidden = $("transcript").hidden = !hasTranscript;
  $("transcript").textContent = hasTranscript ? (d.transcript || "(no speech recognised)") : "";
  $("result").hidden = false;
}
function upload(file) { const form = new FormData(); form.append("file", file); send(form, {}); }
$("file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
$("go").addEventListener("click", () => send(JSON.stringify({text: $("text").value}), {"content-type": "application/json"}));
function dropZone(zone, onFiles) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); onFiles(e.dataTransfer.files); });
}
dropZone($("drop"), (files) => files[0] && upload(files[0]));

// ---- batches ----------------------------------------------------------------------------------
let batchRows = [], sortKey = "source", sortUp = true, polling = null, view = 0;  // view: the latest request's number
async function startBatch(body, headers) {
  view++;  // an answer still on its way for the batch shown before must not mark this one finished
  $("batch-error").textContent = ""; $("batch-status").dataset.finished = false;  // a new batch: not finished yet
  try {
    const b = await api("v1/batches", {method: "POST", body, headers});
    await refreshBatches(b.id);
  } catch (e) { $("batch-error").textContent = "Error: " + e.message; }
}
function uploadBatch(files) {
  if (!files.length) return;
  const form = new FormData(); [...files].forEach(f => form.append("file", f)); startBatch(form, {});
}
$("batch-files").addEventListener("change", (e) => uploadBatch(e.target.files));
dropZone($("batch-drop"), uploadBatch);
$("folder-go").addEventListener("click", () => startBatch(JSON.stringify({folder: $("folder").value}), {"content-type": "application/json"}));
async function refreshBatches(select) {
  try {
    const {batches} = await api("v1/batches");
    const current = select || $("batches").value || (batches[0] || {}).id || "all";
    $("batches").replaceChildren(new Option("every call in the store", "all"), ...batches.map(b => new Option(
      `${b.id} · ${b.calls} calls · ${new Date(b.created_at * 1000).toLocaleString()}`, b.id)));
    if (current) $("batches").value = current;
    pollBatch();
  } catch (e) { $("batch-error").textContent = "Error: " + e.message; }
}
$("batches").addEventListener("change", pollBatch);
$("cancel").addEventListener("click", async () => {
  const id = $("batches").value;
  if (id && confirm("Cancel this batch? Calls not yet done stay undone.")) { await api(`v1/batches/${id}`, {method: "DELETE"}); pollBatch(); }
});
async function pollBatch() {
  clearTimeout(polling);
  const id = $("batches").value, mine = ++view;
  if (!id) return;
  $("batch-report").href = id === "all" ? "report/all" : `report/all?batch=${id}`;
  if (id === "all") {  // every stored call: batches and `predict --store` runs
    const all = await api("v1/calls");
    if (mine !== view) return;  // a newer batch or choice was made meanwhile
    $("batch-progress").hidden = $("cancel").hidden = true;
    $("batch-status").textContent = `${all.calls} calls`; $("batch-status").dataset.finished = true;
    batchRows = all.results; renderResults(); return;
  }
  const b = await api(`v1/batches/${id}`);
  if (mine !== view) return;
  $("batch-progress").hidden = false;
  $("batch-progress").max = b.calls; $("batch-progress").value = b.done + b.failed;
  $("batch-status").textContent = `${b.done + b.failed} of ${b.calls} calls: ${b.done} done, ${b.failed} failed` +
    (b.cancelled ? " · cancelled" : b.finished ? " · finished" : b.running ? ` · working on ${b.running}…` : " · waiting…") +
    (b.stopped ? ` · stopped: ${b.stopped}` : "") + (b.audio_expired ? " · audio expired (deleted after the retention period)" : "");
  $("cancel").hidden = b.finished || signedIn === "reviewer";  // cancelling is the API key's
  $("batch-status").dataset.finished = b.finished;
  batchRows = b.results; renderResults();
  if (!b.finished) polling = setTimeout(pollBatch, 1000);
}
function renderResults() {
  const needle = $("filter").value.toLowerCase();
  const rows = batchRows.filter(r => (!$("only-review").checked || r.needs_review) &&
    (!needle || [r.source, r.label, r.corrected_label, r.reason, r.error].join(" ").toLowerCase().includes(needle)));
  rows.sort((a, b) => (a[sortKey] > b[sortKey] ? 1 : a[sortKey] < b[sortKey] ? -1 : 0) * (sortUp ? 1 : -1));
  $("results").tBodies[0].replaceChildren(...rows.map(r => {
    const tr = document.createElement("tr");
    [r.source, r.error || r.label, r.confidence == null ? "" : r.confidence.toFixed(2), r.needs_review ? "yes" : "",
     r.corrected_label, r.reason, r.duration_s == null ? "" : r.duration_s.toFixed(0), r.state].forEach((v, i) => {
      const td = document.createElement("td"); td.textContent = v;
      td.dataset.label = document.querySelectorAll("#results th")[i].textContent; tr.append(td); });
    return tr;
  }));
}
document.querySelectorAll("#results th").forEach(th => th.addEventListener("click", () => {
  sortUp = sortKey === th.dataset.key ? !sortUp : true; sortKey = th.dataset.key; renderResults(); }));
$("filter").addEventListener("input", renderResults);
$("only-review").addEventListener("change", renderResults);
$("export").addEventListener("click", async () => {
  const id = $("batches").value; if (!id || id === "all") return;
  const r = await fetch(`v1/batches/${id}/results.csv`);
  const a = document.createElement("a"); a.href = URL.createObjectURL(await r.blob());
  a.download = `callsort-${id}.csv`; a.click();
});

// ---- review queue -----------------------------------------------------------------------------
let queue = [], at = 0, labels = [], picked = null, queueOf = "to review";  // queueOf: the queue's calls, or found ones
$("reviewer").value = localStorage.getItem("callsort-reviewer") || "";
$("reviewer").addEventListener("change", () => localStorage.setItem("callsort-reviewer", $("reviewer").value));
async function loadQueue() {
  $("queue-error").textContent = "";
  try {
    const q = await api("v1/review");
    queue = q.calls; labels = q.labels; at = 0; queueOf = "to review"; openItem();
  } catch (e) { $("queue-error").textContent = "Error: " + e.message; }
}
async function openItem() {
  $("queue-count").textContent = `${queue.length} call${queue.length === 1 ? "" : "s"} ${queueOf}`;
  if (!queue.length) { $("item").hidden = true; return; }
  at = Math.max(0, Math.min(at, queue.length - 1));
  const asked = queue[at].id;
  const call = await api(`v1/calls/${asked}`);
  if (!queue.length || queue[at].id !== asked) return;  // J/K moved on while this call was loading
  const r = call.result || {};
  labels = call.labels || labels;
  $("item-source").textContent = `${at + 1} / ${queue.length} · ${call.source}`;
  const said = queue[at].first_words;  // the caller's words, the company's greeting and menu skipped
  $("item-said").textContent = said ? `Caller: “${said}…”` : "";
  const recording = (call.result || {}).duration_s != null;  // a transcript has no audio to ask for
  $("player").hidden = !recording;
  if (recording) $("player").src = call.audio;  // the session cookie goes with the <audio> request (same origin)
  else $("player").removeAttribute("src");
  $("player").onerror = () => { $("saved").textContent = "no audio (expired, or not a recording)"; };
  $("item-label").textContent = r.label || (r.error ? "(failed)" : "(no model yet)");
  $("item-confidence").textContent = r.confidence == null ? "" : `(${Math.round(r.confidence * 100)}%)`;
  bars($("item-bars"), r.probabilities || {});
  const pct = (p) => p == null ? "–" : `${Math.round(p * 100)}%`;  // the questions behind the label
  $("item-questions").textContent = r.p_lead == null ? "" :
    `a lead: ${pct(r.p_lead)} · if a lead, booked: ${pct(r.p_booked)} · an existing customer: ${pct(r.p_existing)}`;
  $("item-transcript").textContent = r.transcript || "(no transcript)";
  $("item").hidden = false;  // shown once filled in: never a half-loaded call
  $("reason").value = ""; $("saved").textContent = "";
  picked = null;
  $("labels").replaceChildren(...labels.map((name, i) => {
    const b = document.createElement("button"); b.textContent = `${i + 1}  ${name}`; b.dataset.label = name;
    b.addEventListener("click", () => pick(name)); return b;
  }));
  pick(r.label || null);
}
function pick(name) {
  picked = name;
  document.querySelectorAll("#labels button").forEach(b => b.classList.toggle("picked", b.dataset.label === name));
}
async function save() {
  if (!queue.length || !picked) return;
  try {
    await api(`v1/calls/${queue[at].id}/correction`, {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({label: picked, reason: $("reason").value, reviewer: $("reviewer").value})});
    queue.splice(at, 1);
    $("saved").textContent = "saved";
    if (models) loadLearn();  // a learning service: the count of labels, and a training it may have started
    openItem();
  } catch (e) { $("queue-error").textContent = "Error: " + e.message; }
}
$("save").addEventListener("click", save);
// Calls found by the search (search.js) shown in this call view: J/K step through them, a label saves as here.
function openCalls(ids, index) {
  queue = ids.map(id => ({id})); at = index; queueOf = "found"; showTab("queue", false); openItem();
}
// ---- ring back (the speed-to-lead list) -------------------------------------------------------------
let callbacks = [];
async function loadCallbacks() {
  $("callbacks-error").textContent = "";
  try { callbacks = (await api("v1/callbacks")).callbacks; renderCallbacks(); loadAlerts().catch(() => { $("alerts-box").hidden = true; }); }
  catch (e) { $("callbacks-error").textContent = "Error: " + e.message; }
}
// The alerts sent for calls on the list (serve --notify-url, --smtp-host): newest first, with their state.
async function loadAlerts() {
  const found = await api("v1/alerts?limit=50");
  $("alerts-box").hidden = !found.channels.length;
  $("alert-channels").textContent = found.channels.join(", ");
  $("alerts").replaceChildren(...found.alerts.map(a => {
    const li = document.createElement("li");
    const tries = `${a.attempts} ${a.attempts === 1 ? "try" : "tries"}`;
    li.textContent = [a.created_at, a.alert.caller || a.alert.call, a.alert.category, a.state,
      Object.entries(a.channels).map(([name, state]) => `${name} ${state}`).join(", "), tries,
      a.last_error && `last error: ${a.last_error}`].filter(Boolean).join(" · ");
    return li;
  }));
}
// An alert's link (#call=ID) opens the list at that call.
function showLinkedCall() {
  const linked = location.hash.match(/^#call=(\d+)$/);
  if (!linked) return;
  const li = document.querySelector(`li.callback[data-id="${linked[1]}"]`);
  if (li) { li.classList.add("linked"); li.scrollIntoView(); }
}
function renderCallbacks() {
  const shown = callbacks.filter(c => $("show-done").checked || !c.done);
  $("callbacks-count").textContent = `${callbacks.filter(c => !c.done).length} to ring back`;
  $("callbacks").replaceChildren(...shown.map(c => {
    const li = document.createElement("li"); li.className = "callback"; li.dataset.id = c.call_id;
    const head = document.createElement("p");
    const number = c.tel ? Object.assign(document.createElement("a"), {href: c.tel}) : document.createElement("span");
    number.textContent = c.caller || "(number not known)";
    const label = document.createElement("b"); label.textContent = ` ${c.label} (${Math.round(c.chance * 100)}%)`;
    head.append(`${c.when || "(no date)"} · `, number, label);
    const facts = document.createElement("p"); facts.className = "small";
    facts.textContent = [c.reason, c.agent && `agent ${c.agent}`, c.call].filter(Boolean).join(" · ");
    const words = document.createElement("p"); words.textContent = c.first_words;
    const play = document.createElement("button"); play.textContent = "Play";
    play.addEventListener("click", () => {
      const audio = Object.assign(document.createElement("audio"), {controls: true, src: c.audio});
      audio.onerror = () => { play.textContent = "no recording"; audio.remove(); };
      play.replaceWith(audio); audio.play().catch(() => {});
    });
    const done = document.createElement("label"); const box = document.createElement("input"); box.type = "checkbox";
    box.checked = c.done; done.append(box, " done");
    box.addEventListener("change", async () => {
      try {
        await api(`v1/callbacks/${c.call_id}`, {method: "POST", headers: {"content-type": "application/json"},
          body: JSON.stringify({done: box.checked, by: $("reviewer").value})});
        c.done = box.checked; renderCallbacks();
      } catch (e) { box.checked = !box.checked; $("callbacks-error").textContent = "Error: " + e.message; }
    });
    const actions = document.createElement("p"); actions.append(play, " ", done);
    li.append(head, facts, words, actions); return li;
  }));
  showLinkedCall();
}
$("show-done").addEventListener("change", renderCallbacks);

document.addEventListener("keydown", (e) => {
  if ($("tab-queue").hidden) return;
  if (e.target.id === "reason" && e.key === "Enter") { e.preventDefault(); save(); return; }
  if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
  if (e.key >= "1" && e.key <= "9" && labels[Number(e.key) - 1]) pick(labels[Number(e.key) - 1]);
  else if (e.key === "Enter") { e.preventDefault(); save(); }
  else if (e.key === "j" || e.key === "J") { at += 1; openItem(); }
  else if (e.key === "k" || e.key === "K") { at -= 1; openItem(); }
});

// ---- live: calls that arrive by themselves show without reloading --------------------------------
// Every few seconds: the number waiting to be rung back on the tab's button, the list itself when it is shown,
// and the batch list (a pushed or watched call is a batch of its own) with the shown batch's table.
let liveCallbacks = "", liveBatches = "";
async function liveTick() {
  const button = document.querySelector('nav [data-tab="callbacks"]');
  if (!signedIn || button.hidden) return;
  const found = (await api("v1/callbacks")).callbacks;
  const waiting = found.filter(c => !c.done).length;
  button.textContent = waiting ? `Ring back (${waiting})` : "Ring back";
  if (!$("tab-callbacks").hidden && JSON.stringify(found) !== liveCallbacks) { callbacks = found; renderCallbacks(); }
  liveCallbacks = JSON.stringify(found);
  const {batches} = await api("v1/batches");
  const seen = batches.map(b => b.id).join();
  if (seen !== liveBatches && liveBatches) refreshBatches($("batches").value === "all" ? "all" : undefined);
  liveBatches = seen;
}
setInterval(() => liveTick().catch(() => {}), 3000);

// ---- learning in place (serve without --model): progress, Train now, the versions, the learning curve ----
let models = null, learnTimer = null;
function progressLine(m) {
  const active = m.versions.find(v => v.version === m.active), f = (x) => x == null ? "–" : x.toFixed(2);
  const model = active ? `model ${active.version} active · macro-F1 ${f(active.macro_f1)}` +
    (active.macro_f1_interval ? ` (${active.macro_f1_interval.map(f).join("–")})` : "") + " on people's labels"
    : "no model yet: label calls, then Train now";
  return `${m.labelled} labelled · ${model}${m.training ? " · training…" : ""}`;
}
async function loadLearn() {
  clearTimeout(learnTimer);
  try { models = await api("v1/models"); } catch (e) { models = null; return; }  // a service with --model: no tab
  document.querySelector('nav [data-tab="learn"]').hidden = false;
  $("learn-progress").textContent = $("queue-progress").textContent = progressLine(models);
  $("learn-missing").textContent = models.missing.length ?
    `not labelled yet, so not predicted: ${models.missing.join(", ")}` : "";
  renderVersions(); drawCurve();
  if (models.training) learnTimer = setTimeout(loadLearn, 1500);
}
function cell(text) { const td = document.createElement("td"); td.textContent = text ?? ""; return td; }
function renderVersions() {
  const f = (x) => x == null ? "–" : x.toFixed(2);
  $("versions").tBodies[0].replaceChildren(...[...models.versions].reverse().map(v => {
    const tr = document.createElement("tr"); tr.dataset.version = v.version; tr.dataset.state = v.state;
    const act = document.createElement("button"); act.textContent = "Activate"; act.hidden = v.state === "active";
    act.addEventListener("click", async () => {
      try { await api(`v1/models/${v.version}/activate`, {method: "POST"}); loadLearn(); }
      catch (e) { $("learn-error").textContent = "Error: " + e.message; }
    });
    const last = document.createElement("td"); last.append(act);
    tr.append(cell(v.version), cell(v.state + (v.error ? `: ${v.error}` : "")), cell(v.trained_on), cell(v.labelled_by_people),
      cell(`${f(v.macro_f1)}` + (v.macro_f1_interval ? ` (${v.macro_f1_interval.map(f).join("–")})` : "")),
      cell(v.compared_with ? `${v.compared_with.version}: ${f(v.compared_with.macro_f1)}` : ""), cell(v.created), last);
    return tr;
  }));
}
function svg(name, attributes) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  Object.entries(attributes).forEach(([k, v]) => node.setAttribute(k, v)); return node;
}
// macro-F1 (with its interval) of each checked version against the people's labels it knew
function drawCurve() {
  const points = models.versions.filter(v => v.macro_f1 != null), W = 520, H = 220, pad = 36;
  const most = Math.max(10, ...points.map(v => v.labelled_by_people));
  const x = (n) => pad + (W - 2 * pad) * n / most, y = (f) => H - pad - (H - 2 * pad) * f;
  const parts = [svg("line", {x1: pad, y1: y(0), x2: W - pad, y2: y(0), stroke: "#999"}),
    svg("line", {x1: pad, y1: y(0), x2: pad, y2: y(1), stroke: "#999"})];
  [[0, "0"], [1, "1"]].forEach(([f, t]) => { const l = svg("text", {x: 4, y: y(f) + 4, "font-size": 11}); l.textContent = t; parts.push(l); });
  const axis = svg("text", {x: W / 2 - 60, y: H - 6, "font-size": 11}); axis.textContent = "people's labels → macro-F1 ↑";
  parts.push(axis);
  if (points.length > 1) parts.push(svg("polyline", {fill: "none", stroke: "#4a8", "stroke-width": 2,
    points: points.map(v => `${x(v.labelled_by_people)},${y(v.macro_f1)}`).join(" ")}));
  points.forEach(v => {
    if (v.macro_f1_interval) parts.push(svg("line", {x1: x(v.labelled_by_people), x2: x(v.labelled_by_people),
      y1: y(v.macro_f1_interval[0]), y2: y(v.macro_f1_interval[1]), stroke: "#4a8"}));
    const dot = svg("circle", {cx: x(v.labelled_by_people), cy: y(v.macro_f1), r: 4,
      fill: v.state === "active" ? "#2a6" : v.state === "rejected" ? "#b50" : "#999"});
    const tip = svg("title", {}); tip.textContent = `version ${v.version}: ${v.macro_f1} (${v.state})`;
    dot.append(tip); parts.push(dot);
  });
  $("curve").replaceChildren(...parts);
}
$("train-now").addEventListener("click", async () => {
  $("learn-error").textContent = "";
  try { await api("v1/models/train", {method: "POST"}); $("learn-status").textContent = "training…"; loadLearn(); }
  catch (e) { $("learn-error").textContent = "Error: " + e.message; }
});
$("learn-label").addEventListener("click", () => showTab("queue"));
