// mile-meta workbench: one page over the workbench's JSON API (no framework, no CDN).
"use strict";

const state = {
  data: null,          // the open file (columns)
  session: null,       // the workflow session
  info: null,          // task, metric, why
  revision: null,      // the session revision this page last saw
  recs: null, recSort: { key: "rank", asc: true },
  versions: [], ticked: [],
  editorParent: null, editorAuthor: "user", editorAction: "written in the editor",
  form: null, searchJob: null, searched: false, searchHistory: [], searchPoints: [], lastSearch: null,
  kb: { offset: 0, limit: 50, sort: null, descending: false },
  plotly: null,
};

// -- small helpers -------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const $ = (id) => document.getElementById(id);
function fmt(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return value.toLocaleString("en");
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(digits);
}
function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(1)} s`;
}
function say(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = kind === "info" ? "info" : "";
  box.hidden = !text;
}
async function api(path, options = {}) {
  const init = { method: options.method || (options.body !== undefined ? "POST" : "GET"), headers: {} };
  if (options.raw !== undefined) { init.body = options.raw; init.headers["content-type"] = "application/octet-stream"; }
  else if (options.body !== undefined) { init.body = JSON.stringify(options.body); init.headers["content-type"] = "application/json"; }
  const response = await fetch(path, init);
  let payload = null;
  try { payload = await response.json(); } catch (error) { payload = null; }
  if (!response.ok) {
    const message = (payload && (payload.error || (payload.detail && JSON.stringify(payload.detail)))) || `${response.status} ${response.statusText}`;
    const failure = new Error(message);
    failure.status = response.status;
    throw failure;
  }
  return payload;
}
function guarded(work) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    try { await work(event); } catch (error) { say(error.message); }
  };
}
function table(node, columns, rows, options = {}) {
  node.replaceChildren();
  const head = el("tr", {}, columns.map((column) => {
    const th = el("th", { class: options.onSort ? "sortable" : null, text: column.label || column.key });
    if (options.onSort) th.addEventListener("click", () => options.onSort(column.key));
    return th;
  }));
  node.append(el("thead", {}, head));
  const body = el("tbody");
  rows.forEach((row, index) => {
    const tr = el("tr", {}, columns.map((column) => {
      const value = column.render ? column.render(row, index) : row[column.key];
      const cell = el("td", { class: column.num ? "num" : null });
      cell.append(value instanceof Node ? value : document.createTextNode(column.num ? fmt(value) : (value ?? "–")));
      return cell;
    }));
    if (options.onRow) options.onRow(tr, row, body);
    body.append(tr);
  });
  node.append(body);
}
function ensurePlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!state.plotly) {
    state.plotly = new Promise((resolve, reject) => {
      const script = el("script", { src: "/vendor/plotly.min.js" });
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("plotly could not be loaded from the workbench"));
      document.head.append(script);
    });
  }
  return state.plotly;
}
async function plot(id, traces, layout) {
  const Plotly = await ensurePlotly();
  await Plotly.react($(id), traces, Object.assign({ margin: { l: 50, r: 10, t: 10, b: 45 }, height: 320, hovermode: "closest" }, layout), { displaylogo: false, responsive: true });
}

// -- tabs ----------------------------------------------------------------------------------
function showTab(name) {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  if (name === "kb" && !$("kb-rows").firstChild) loadKbPage().catch((e) => say(e.message));
  if (name === "versions" && state.session) loadVersions().catch((e) => say(e.message));
}

// -- 1. data in ----------------------------------------------------------------------------
function showTable(data) {
  state.data = data;
  $("columns-card").hidden = false;
  $("table-title").textContent = `${data.name}: ${fmt(data.rows)} rows, ${data.columns.length} columns`;
  const target = $("target");
  target.replaceChildren(...data.columns.map((c) => el("option", { value: c.name, text: c.name, selected: c.name === data.suggested_target })));
  table($("columns-table"), [
    { key: "name", label: "column" }, { key: "dtype", label: "type" },
    { key: "distinct", label: "distinct", num: true }, { key: "missing", label: "missing", num: true },
  ], data.columns);
}
async function upload(file) {
  if (!file) return;
  say("");
  $("drop").querySelector("span").textContent = `Reading ${file.name}…`;
  try {
    showTable(await api(`/api/data/upload?filename=${encodeURIComponent(file.name)}`, { method: "PUT", raw: file }));
  } finally {
    $("drop").querySelector("span").textContent = "Choose a file or drop it here";
  }
}
async function useTarget() {
  say("");
  const info = await api("/api/sessions", { body: { data_id: state.data.data_id, target: $("target").value, task_type: $("task").value, metric: $("metric").value } });
  await openSession(info.session.session_id, info);
  showTab("recommend");
}
async function openSession(sessionId, info) {
  const loaded = await api(`/api/sessions/${sessionId}`);
  state.session = loaded.session;
  state.revision = loaded.session.revision;
  state.versions = loaded.versions;
  state.searched = !!loaded.searched;
  state.info = info || { task_type: loaded.session.task_type, metric: loaded.session.metric, why: "", higher_is_better: !/error|loss/.test(loaded.session.metric) };
  state.recs = null;
  location.hash = `s=${sessionId}`;
  $("session-badge").textContent = `${state.session.name} · ${state.info.task_type} · ${state.info.metric}`;
  $("task-why").textContent = info ? `${info.task_type} (${info.why}); metric ${info.metric}; ${fmt(info.rows)} rows, ${info.features} features.` + (info.warnings.length ? ` Note: ${info.warnings.join("; ")}` : "") : `${state.info.task_type}, metric ${state.info.metric}`;
  renderVersions();
  loadFamilies();
  await Promise.all([loadRecommendations(), loadProfile(), loadEstimators()]);
}
async function loadProfile() {
  const profile = await api(`/api/sessions/${state.session.session_id}/profile`);
  $("profile").hidden = false;
  table($("metafeatures"), [{ key: "k", label: "meta-feature" }, { key: "v", label: "value", num: true }],
    Object.entries(profile.key_meta_features).map(([k, v]) => ({ k, v })));
  table($("nearest"), [
    { key: "name", label: "dataset" }, { key: "distance", label: "distance", num: true },
    { key: "winner", label: "what won there" },
    { key: "winner_score", label: "its score", render: (r) => r.winner_score === null ? "–" : `${fmt(r.winner_score)} ${r.metric.replace(/_/g, " ")}` },
  ], profile.nearest);
}
async function loadSessions() {
  const sessions = await api("/api/sessions");
  const box = $("sessions");
  box.replaceChildren();
  if (!sessions.length) return;
  box.append(el("h3", { text: "Or re-open a session" }));
  box.append(el("ul", {}, sessions.slice(0, 8).map((s) => el("li", {},
    el("a", { href: `#s=${s.session_id}`, onclick: guarded(async () => { await openSession(s.session_id); showTab("recommend"); }) }, s.name),
    el("span", { class: "meta" }, ` · ${s.revision} change(s) · ${s.updated_at.slice(0, 16).replace("T", " ")}`)))));
}

// -- 2. recommendations --------------------------------------------------------------------
async function loadRecommendations() {
  $("recommendations").replaceChildren(el("caption", { text: "ranking…" }));
  const report = await api(`/api/sessions/${state.session.session_id}/recommendations?top=25`);
  state.recs = report;
  $("rec-meta").textContent = `${report.meta_learner}, ${report.metric.replace(/_/g, " ")} (${report.higher_is_better ? "higher" : "lower"} is better), ${report.total} ranked`;
  renderRecommendations();
}
function renderRecommendations() {
  const { key, asc } = state.recSort;
  const rows = [...state.recs.recommendations].sort((a, b) => {
    const va = key === "interval" ? a.interval[1] - a.interval[0] : a[key];
    const vb = key === "interval" ? b.interval[1] - b.interval[0] : b[key];
    const order = (va ?? Infinity) < (vb ?? Infinity) ? -1 : (va ?? Infinity) > (vb ?? Infinity) ? 1 : 0;
    return asc ? order : -order;
  });
  table($("recommendations"), [
    { key: "rank", label: "#", num: true },
    { key: "description", label: "pipeline" },
    { key: "family", label: "family" },
    { key: "predicted_score", label: "predicted", num: true },
    { key: "interval", label: "interval (10–90 %)", render: (r) => `${fmt(r.interval[0], 3)} – ${fmt(r.interval[1], 3)}` },
    { key: "expected_fit_seconds", label: "fit time", render: (r) => seconds(r.expected_fit_seconds) },
    { key: "evidence", label: "evidence", render: (r) => r.evidence.map((e) => `${e.dataset_name} (${fmt(e.score, 3)})`).join(", ") },
    { key: "actions", label: "", render: (r) => el("span", {},
      el("button", { "data-testid": "edit-rec", onclick: (event) => { event.stopPropagation(); editRecommendation(r); } }, "Edit"), " ",
      el("button", { "data-testid": "evaluate-rec", onclick: (event) => { event.stopPropagation(); evaluateRecommendation(r).catch((e) => say(e.message)); } }, "Evaluate")) },
  ], rows, {
    onSort: (sortKey) => {
      if (sortKey === "actions" || sortKey === "evidence") return;
      state.recSort = { key: sortKey, asc: state.recSort.key === sortKey ? !state.recSort.asc : true };
      renderRecommendations();
    },
    onRow: (tr, row) => {
      tr.classList.add("rec");
      tr.dataset.pipeline = row.pipeline_id;
      tr.addEventListener("click", () => toggleDetails(tr, row).catch((e) => say(e.message)));
    },
  });
}
async function toggleDetails(tr, row) {
  const next = tr.nextSibling;
  if (next && next.classList && next.classList.contains("details")) { next.remove(); return; }
  const cell = el("td", { colspan: 8 }, el("p", { class: "hint", text: "Asking the knowledge base…" }));
  const detailsRow = el("tr", { class: "details", "data-testid": "rec-details" }, cell);
  tr.after(detailsRow);
  const details = await api(`/api/sessions/${state.session.session_id}/recommendations/${row.pipeline_id}`);
  const evidence = el("table", { class: "small" });
  table(evidence, [
    { key: "dataset_name", label: "similar dataset" }, { key: "distance", label: "distance", num: true },
    { key: "observed_score", label: "this pipeline there", num: true }, { key: "rank_on_dataset", label: "its rank there", num: true },
  ], details.evidence);
  const answers = el("div", { class: "answers" }, details.answers.map((a) => el("div", {},
    el("strong", { text: a.title }), el("p", { class: a.answered ? null : "warn", text: a.summary }))));
  cell.replaceChildren(el("div", { class: "columns" },
    el("div", { class: "card" }, el("h3", { text: "Evidence" }), evidence),
    el("div", { class: "card wide" }, el("h3", { text: "What the practitioner patterns ask, answered for this data" }), answers)));
}

// -- 3. editor -----------------------------------------------------------------------------
async function loadEstimators() {
  const form = await api(`/api/sessions/${state.session.session_id}/form`, { body: {} });
  const select = $("estimator");
  select.replaceChildren(...form.estimators.map((e) => el("option", { value: e.estimator, text: `${e.estimator} (${e.family})` })));
  if (!state.form) renderForm(form, null, "user", "written in the editor");
}
function editRecommendation(rec) {
  loadSpec(rec.spec, null, "recommendation", `recommendation #${rec.rank} (${rec.family})`).then(() => showTab("edit")).catch((e) => say(e.message));
}
async function evaluateRecommendation(rec) {
  await loadSpec(rec.spec, null, "recommendation", `recommendation #${rec.rank} (${rec.family})`);
  showTab("edit");
  await evaluate();
}
async function loadSpec(spec, parent, author, action) {
  const form = await api(`/api/sessions/${state.session.session_id}/form`, { body: { spec } });
  renderForm(form, parent, author, action);
}
function renderForm(form, parent, author, action) {
  state.form = form;
  state.editorParent = parent;
  state.editorAuthor = author;
  state.editorAction = action;
  const estimator = form.spec.steps[form.spec.steps.length - 1].component;
  const select = $("estimator");
  if (![...select.options].some((o) => o.value === estimator)) select.append(el("option", { value: estimator, text: `${estimator} (not in the search space)` }));
  select.value = estimator;
  $("edit-origin").textContent = parent ? `derived from version ${parent.number}` : `from ${action}`;
  const editor = $("editor");
  editor.replaceChildren(...form.steps.map((step) => el("fieldset", { "data-step": step.index, "data-component": step.component },
    el("legend", { text: `${step.index + 1}. ${step.component}` }),
    step.fields.map((field) => fieldInput(step, field)))));
  $("spec-json").value = JSON.stringify(form.spec, null, 1);
  $("form-status").textContent = "";
}
function fieldInput(step, field) {
  const id = `f-${step.index}-${field.name}`;
  let input;
  if (field.kind === "categorical") {
    input = el("select", { id }, field.choices.map((choice) => el("option", { value: JSON.stringify(choice), text: JSON.stringify(choice), selected: JSON.stringify(choice) === JSON.stringify(field.value) })));
  } else if (field.kind === "json") {
    input = el("input", { id, value: JSON.stringify(field.value) });
  } else {
    input = el("input", { id, value: field.value === null ? "" : String(field.value), inputmode: "decimal" });
  }
  input.dataset.name = field.name;
  input.dataset.kind = field.kind;
  // a hyperparameter the spec leaves at its default is sent only when changed, so taking a
  // recommendation as is keeps its pipeline id (and its prediction)
  if (!field.is_set) input.dataset.unset = input.value;
  input.setAttribute("data-testid", `field-${field.name}`);
  input.addEventListener("change", () => validateForm().catch((e) => say(e.message)));
  return el("div", { class: "field" }, el("label", { for: id, text: field.name + (field.in_space ? "" : " *") }), input,
    el("span", { class: "help", text: field.help }), el("span", { class: "error", id: `${id}-error` }));
}
function formSteps() {
  return [...$("editor").querySelectorAll("fieldset")].map((fieldset) => {
    const params = {};
    fieldset.querySelectorAll("input, select").forEach((input) => {
      if (input.dataset.unset !== undefined && input.dataset.unset === input.value) return;
      params[input.dataset.name] = input.value;
    });
    return { component: fieldset.dataset.component, params };
  });
}
async function validateForm() {
  const result = await api("/api/validate", { body: { steps: formSteps() } });
  document.querySelectorAll("#editor .error, #editor .warn").forEach((node) => { node.textContent = ""; node.className = "error"; });
  document.querySelectorAll("#editor .invalid").forEach((node) => node.classList.remove("invalid"));
  const status = $("form-status");
  if (result.ok) {
    status.className = "ok";
    status.textContent = `valid: ${result.description}`;
    for (const [key, note] of Object.entries(result.notes || {})) {
      const match = key.match(/^(\d+):[^.]+\.(.+)$/);
      const slot = match && $(`f-${match[1]}-${match[2]}-error`);
      if (slot) { slot.className = "warn"; slot.textContent = `accepted, ${note}`; }
    }
    $("spec-json").value = JSON.stringify(result.spec, null, 1);
    return result;
  }
  status.className = "error";
  const messages = [];
  for (const [key, reason] of Object.entries(result.errors)) {
    const match = key.match(/^(\d+):[^.]+\.(.+)$/);
    if (match) {
      const input = $(`f-${match[1]}-${match[2]}`);
      if (input) input.classList.add("invalid");
      const slot = $(`f-${match[1]}-${match[2]}-error`);
      if (slot) slot.textContent = reason;
    }
    messages.push(`${key}: ${reason}`);
  }
  status.textContent = `refused: ${messages.join("; ")}`;
  return result;
}
async function evaluate() {
  say("");
  const checked = await validateForm();
  if (!checked.ok) return;
  const job = await api(`/api/sessions/${state.session.session_id}/evaluate`, { body: {
    steps: formSteps(), parent_id: state.editorParent ? state.editorParent.version_id : null,
    author: state.editorAuthor, action: state.editorAction, expected_revision: state.revision,
  } }).catch((error) => {
    if (error.status === 409) {
      say(error.message);
      const reload = el("button", { onclick: guarded(async () => { await refreshSession(); say("History reloaded: evaluate again when ready.", "info"); }) }, "Reload the history");
      $("message").append(" ", reload);
      return null;
    }
    throw error;
  });
  if (!job) return;
  $("evaluate").disabled = true;
  $("eval-progress").hidden = false;
  $("eval-bar").removeAttribute("value");
  $("eval-text").textContent = "fitting…";
  const folds = { done: 0, total: null, score: null, comparing: false };
  await followJob(job.job_id, (event) => {
    if (event.type === "start") folds.total = event.folds;
    if (event.type === "fold") Object.assign(folds, { done: event.done, total: event.total, score: event.score });
    if (event.type === "comparing") folds.comparing = true;
    const expected = event.expected_seconds;
    // the bar is the share of folds done (the clock against the expected time before the first)
    $("eval-bar").max = 1;
    if (folds.done && folds.total) $("eval-bar").value = folds.done / folds.total;
    else if (expected) $("eval-bar").value = Math.min(0.97, event.elapsed / expected) / (folds.total || 1);
    const foldText = folds.total ? `fold ${folds.done}/${folds.total} done` + (folds.score !== null ? ` · mean so far ${fmt(folds.score)}` : "") : "fitting";
    $("eval-fold").textContent = folds.comparing ? `${foldText} · comparing with the knowledge base…` : foldText;
    $("eval-text").textContent = `${event.elapsed.toFixed(1)} s${expected ? ` of about ${expected.toFixed(1)} s expected` : ""}`;
  }, async (end) => {
    $("evaluate").disabled = false;
    $("eval-progress").hidden = true;
    if (end.status === "failed") { say(end.error); await refreshSession(); return; }
    state.revision = end.result.revision;
    showResult(end.result);
    await refreshSession();
    // the next edit derives from what was just evaluated
    const made = state.versions.find((v) => v.version_id === end.result.version.version_id);
    if (made) { state.editorParent = made; state.editorAuthor = "user"; state.editorAction = `edit of v${made.number}`; $("edit-origin").textContent = `derived from version ${made.number}`; }
  });
}
function showResult(result) {
  const v = result.version;
  const box = $("eval-result");
  const rows = [el("p", { class: "big", "data-testid": "score", text: `${fmt(v.mean)} ± ${fmt(v.std, 2)}` }),
    el("p", {}, `${v.metric.replace(/_/g, " ")} over ${v.fold_scores.length} folds; fit ${seconds(v.fit_seconds)} per fold`,
      v.cached_folds ? `; ${v.cached_folds} fold(s) reused preprocessing from the cache` : "", `; version ${v.number}.`)];
  // what `mile-meta evaluate` says too: mile_meta.recommend.compare_evaluation
  const c = result.comparison;
  if (!c) {
    rows.push(el("p", { class: "hint", "data-testid": "vs-prediction", text: "No comparison with the knowledge base for this result." }));
  } else {
    if (c.predicted !== null) {
      const kind = c.verdict.startsWith("inside") ? "ok" : "warn";
      rows.push(el("p", { "data-testid": "vs-prediction" }, `Predicted ${fmt(c.predicted)} (${fmt(c.lower, 3)} – ${fmt(c.upper, 3)}; rank ${c.rank} of ${fmt(c.n_ranked)} for this data, ranked without its own runs): `,
        el("span", { class: kind, text: c.verdict })));
    } else {
      rows.push(el("p", { class: "hint", "data-testid": "vs-prediction", text: `No prediction for this exact pipeline: ${c.verdict}.` }));
    }
    if (c.nearest_best.length) {
      const yours = c.measured_on_ranking_metric === null ? "" : ` (yours: ${fmt(c.measured_on_ranking_metric)})`;
      rows.push(el("div", { "data-testid": "vs-kb" }, el("p", { text: `The knowledge base's best on the most similar datasets, ${c.ranking_metric.replace(/_/g, " ")}${yours}:` }),
        el("ul", {}, c.nearest_best.map((b) => el("li", {}, `${b.dataset_name} (distance ${fmt(b.distance, 2)}): ${fmt(b.score)} by ${b.pipeline}`)))));
    }
  }
  box.replaceChildren(...rows);
}
async function refreshSession() {
  const loaded = await api(`/api/sessions/${state.session.session_id}`);
  state.session = loaded.session;
  state.revision = loaded.session.revision;
  state.versions = loaded.versions;
  renderVersions();
}
function followJob(jobId, onEvent, onEnd) {
  return new Promise((resolve) => {
    const source = new EventSource(`/api/jobs/${jobId}/events`);
    let finished = false;
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "end") {
        finished = true;
        source.close();
        Promise.resolve(onEnd(event)).catch((e) => say(e.message)).finally(resolve);
      } else {
        onEvent(event);
      }
    };
    source.onerror = () => {
      if (finished) return;
      source.close();
      // the stream broke (server restart, sleep): ask for the job's state instead
      api(`/api/jobs/${jobId}`).then((job) => {
        if (job.status === "running") setTimeout(() => followJob(jobId, onEvent, onEnd).then(resolve), 1000);
        else Promise.resolve(onEnd({ status: job.status, result: job.result, error: job.error })).finally(resolve);
      }).catch((e) => { say(e.message); resolve(); });
    };
  });
}

// -- 4. versions ---------------------------------------------------------------------------
async function loadVersions() { await refreshSession(); }
function renderVersions() {
  const list = $("version-tree");
  list.replaceChildren();
  const byId = Object.fromEntries(state.versions.map((v) => [v.version_id, v]));
  const depth = (v) => (v.parent_id && byId[v.parent_id] ? 1 + depth(byId[v.parent_id]) : 0);
  for (const v of state.versions) {
    const box = el("input", { type: "checkbox", "data-testid": `tick-${v.number}`, checked: state.ticked.includes(v.version_id) });
    box.addEventListener("change", () => {
      state.ticked = state.ticked.filter((id) => id !== v.version_id);
      if (box.checked) state.ticked.push(v.version_id);
      if (state.ticked.length > 2) state.ticked.shift();
      renderVersions();
    });
    const parent = v.parent_id && byId[v.parent_id] ? ` ← v${byId[v.parent_id].number}` : "";
    list.append(el("li", { style: `padding-left:${depth(v) * 22}px`, "data-testid": "version" },
      box, " ", el("strong", { text: `v${v.number}` }), " ", el("span", { class: `pill ${v.author}`, text: v.author }), ` ${parent} `,
      el("span", { text: specLabel(v.spec) }), el("br"),
      el("span", { class: "meta" }, v.status === "ok" ? `${fmt(v.mean)} ± ${fmt(v.std, 2)} · fit ${seconds(v.fit_seconds)} · ${v.action}` : `failed: ${v.error}`), " ",
      el("button", { "data-testid": `reopen-${v.number}`, onclick: guarded(async () => { await loadSpec(v.spec, v, "user", `edit of v${v.number}`); showTab("edit"); }) }, "Re-open and edit")));
  }
  $("compare").disabled = state.ticked.length !== 2;
}
function specLabel(spec) {
  const last = spec.steps[spec.steps.length - 1];
  return `${last.component}(${Object.entries(last.params || {}).map(([k, v]) => `${k}=${v}`).join(", ")})`;
}
async function compare() {
  const [a, b] = state.ticked;
  const result = await api(`/api/compare?a=${a}&b=${b}`);
  const box = $("comparison");
  const diff = el("table", { class: "small", "data-testid": "spec-diff" });
  table(diff, [{ key: "key", label: "setting" }, { key: "a", label: `v${result.a.number}`, render: (r) => JSON.stringify(r.a) }, { key: "b", label: `v${result.b.number}`, render: (r) => JSON.stringify(r.b) }], result.spec_diff);
  const scores = el("table", { class: "small" });
  table(scores, [{ key: "what", label: "" }, { key: "a", label: `v${result.a.number}` }, { key: "b", label: `v${result.b.number}` }], [
    { what: "pipeline", a: specLabel(result.a.spec), b: specLabel(result.b.spec) },
    { what: result.a.metric.replace(/_/g, " "), a: `${fmt(result.a.mean)} ± ${fmt(result.a.std, 2)}`, b: `${fmt(result.b.mean)} ± ${fmt(result.b.std, 2)}` },
    { what: "fit time per fold", a: seconds(result.a.fit_seconds), b: seconds(result.b.fit_seconds) },
    { what: "made by", a: `${result.a.author}: ${result.a.action}`, b: `${result.b.author}: ${result.b.action}` },
  ]);
  const verdict = result.difference === null ? "One of them has no score." :
    `v${result.b.number} − v${result.a.number} = ${fmt(result.difference)}` +
    (result.interval ? ` (95 % interval ${fmt(result.interval[0], 3)} to ${fmt(result.interval[1], 3)}, ${result.paired ? "paired over the same folds" : "Welch, unpaired"})` : "") +
    (result.better ? `: v${result.better === result.a.version_id ? result.a.number : result.b.number} is better.` : ": no clear difference.") +
    (result.fit_seconds_ratio ? ` v${result.b.number} fits ${fmt(result.fit_seconds_ratio, 2)}× as long.` : "");
  box.replaceChildren(el("p", { class: "big", "data-testid": "difference", text: verdict }), scores,
    el("h3", { text: `What differs (${result.spec_diff.length})` }), diff);
}

// -- 5. cruise control ---------------------------------------------------------------------
async function loadFamilies() {
  const check = await api("/api/constraints/check", { body: { task_type: state.info.task_type, budget: "60s" } });
  $("families").replaceChildren(...check.families.map((family) => {
    const button = el("button", { type: "button", class: "tri", "data-family": family, "data-state": "", title: "click: include / exclude / either", "data-testid": `family-${family}` }, "·");
    button.addEventListener("click", () => {
      const next = { "": "include", include: "exclude", exclude: "" }[button.dataset.state];
      button.dataset.state = next;
      button.textContent = { "": "·", include: "✓", exclude: "✗" }[next];
      checkConstraints();
    });
    return el("label", {}, button, family);
  }));
  checkConstraints();
}
function constraintForm() {
  const form = $("constraints");
  const families = [...form.querySelectorAll("[data-family]")];
  return {
    task_type: state.info ? state.info.task_type : "binary",
    include: families.filter((b) => b.dataset.state === "include").map((b) => b.dataset.family),
    exclude: families.filter((b) => b.dataset.state === "exclude").map((b) => b.dataset.family),
    interpretable: form.interpretable.checked,
    pins: form.pins.value, max_fit_time: form.max_fit_time.value, max_model_size: form.max_model_size.value,
    budget: form.budget.value,
  };
}
let checkTimer = null;
function checkConstraints() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(async () => {
    try {
      const check = await api("/api/constraints/check", { body: constraintForm() });
      const line = $("constraint-check");
      line.className = check.ok ? "ok" : "error";
      line.textContent = check.ok ? `satisfiable: ${check.estimators.length} estimators left (${check.estimators.join(", ")}); budget ${check.budget_seconds} s` : `unsatisfiable: ${check.reason}`;
      document.querySelector("[data-testid=start-search]").disabled = !check.ok || !state.session || !!state.searchJob;
      $("replan-search").disabled = !check.ok || !state.session || !state.searched;
    } catch (error) { say(error.message); }
  }, 150);
}
async function startSearch(replan = false) {
  say("");
  const job = await api(`/api/sessions/${state.session.session_id}/search`, { body: { ...constraintForm(), replan } });
  state.searchJob = job.job_id;
  state.searched = true;
  $("replan-note").textContent = replan ? "re-planning: waiting for the running search to stop…" : "";
  state.searchHistory = [];
  state.searchPoints = [];
  document.querySelector("[data-testid=start-search]").disabled = true;
  $("stop-search").disabled = false;
  $("search-status").textContent = "starting…";
  $("leaderboard").replaceChildren();
  $("cuts").replaceChildren();
  const live = [];
  const current = () => state.searchJob === job.job_id;
  await followJob(job.job_id, (event) => {
    if (!current()) return;  // replaced by a re-plan: the new search owns the view
    if (event.type === "start" && event.note) $("replan-note").textContent = event.note;
    if (event.type === "note") $("replan-note").textContent = event.text;
    if (event.type !== "progress") return;
    $("search-bar").value = Math.min(1, event.search_elapsed / event.budget);
    $("search-status").textContent = `${event.phase} · ${event.evaluations} evaluations · ${event.failures} failed · ${event.search_elapsed.toFixed(1)} of ${event.budget.toFixed(0)} s`;
    if (event.last && event.last.score !== null) state.searchPoints.push({ t: event.search_elapsed, score: event.last.score, text: event.last.description });
    if (event.best_score !== null) {
      state.searchHistory.push({ t: event.search_elapsed, score: event.best_score });
      $("search-best").textContent = `best so far: ${event.best_description} — ${fmt(event.best_score)}`;
    }
    if (event.last) live.push(event.last);
    if (event.notes && event.notes.length) $("cuts").replaceChildren(...event.notes.map((n) => el("li", { class: "hint", text: n })));
    table($("leaderboard"), [
      { key: "number", label: "#", num: true }, { key: "description", label: "pipeline" },
      { key: "score", label: "score", num: true }, { key: "fidelity", label: "rows" },
      { key: "status", label: "status" }, { key: "reason", label: "why tried" },
    ], [...live].reverse().slice(0, 30));
    drawSearchPlot("search-plot");
  }, async (end) => {
    if (!current()) { await refreshSession(); return; }
    state.searchJob = null;
    $("stop-search").disabled = true;
    checkConstraints();
    if (end.status === "failed") { $("search-status").textContent = "failed"; say(end.error); return; }
    const summary = end.result.summary;
    state.lastSearch = summary;
    $("search-bar").value = 1;
    $("search-status").textContent = `finished (${summary.stopped_because}): ${summary.evaluations} evaluations in ${summary.elapsed_seconds.toFixed(1)} s`;
    if (state.searchHistory.length) state.searchHistory.push({ t: summary.elapsed_seconds, score: state.searchHistory[state.searchHistory.length - 1].score });
    drawSearchPlot("search-plot");
    $("search-best").textContent = summary.best ? `best: ${summary.best.description} — ${fmt(summary.best.score)} ± ${fmt(summary.best.std, 2)} (${summary.best.fidelity}); kept as version ${end.result.version ? end.result.version.number : "–"}` : "no candidate finished";
    table($("leaderboard"), [
      { key: "rank", label: "#", num: true }, { key: "description", label: "pipeline" },
      { key: "score", label: "score", num: true }, { key: "std", label: "±", num: true },
      { key: "fit_seconds", label: "fit s", num: true }, { key: "fidelity", label: "rows" },
      { key: "status", label: "status" }, { key: "reason", label: "why tried" },
    ], summary.leaderboard);
    $("cuts").replaceChildren(...summary.cuts.map((c) => el("li", { text: `${c.target}: ${c.reason} (${c.source})` })), ...summary.notes.map((n) => el("li", { class: "hint", text: n })));
    await refreshSession();
  });
}
function drawSearchPlot(id) {
  if (!state.searchHistory.length) return;
  plot(id, [
    { x: state.searchPoints.map((p) => p.t), y: state.searchPoints.map((p) => p.score), text: state.searchPoints.map((p) => p.text), mode: "markers", name: "evaluations", marker: { size: 6, opacity: 0.5 } },
    { x: state.searchHistory.map((p) => p.t), y: state.searchHistory.map((p) => p.score), mode: "lines", line: { shape: "hv", width: 3 }, name: "best so far" }],
    { xaxis: { title: { text: "seconds" } }, yaxis: { title: { text: state.info.metric } }, height: 260 }).catch((e) => say(e.message));
}

// -- knowledge base ------------------------------------------------------------------------
async function loadKbPage() {
  const name = $("kb-table").value;
  const params = new URLSearchParams({ offset: state.kb.offset, limit: state.kb.limit, descending: state.kb.descending });
  if (state.kb.sort) params.set("sort", state.kb.sort);
  document.querySelectorAll("#kb-rows thead input").forEach((input) => { if (input.value) params.set(`filter_${input.dataset.column}`, input.value); });
  const page = await api(`/api/kb/browse/${name}?${params}`);
  const filters = {};
  document.querySelectorAll("#kb-rows thead input").forEach((input) => { filters[input.dataset.column] = input.value; });
  const node = $("kb-rows");
  node.replaceChildren();
  node.append(el("thead", {},
    el("tr", {}, page.columns.map((column) => el("th", { class: "sortable", onclick: () => { state.kb.descending = state.kb.sort === column ? !state.kb.descending : false; state.kb.sort = column; loadKbPage().catch((e) => say(e.message)); } }, column + (state.kb.sort === column ? (state.kb.descending ? " ▼" : " ▲") : "")))),
    el("tr", {}, page.columns.map((column) => {
      const input = el("input", { placeholder: "filter", value: filters[column] || "", size: 8 });
      input.dataset.column = column;
      input.addEventListener("change", () => { state.kb.offset = 0; loadKbPage().catch((e) => say(e.message)); });
      return el("th", {}, input);
    }))));
  node.append(el("tbody", {}, page.rows.map((row) => el("tr", {}, row.map((value) => el("td", { text: typeof value === "number" ? fmt(value) : (value === null ? "–" : String(value).slice(0, 120)) }))))));
  $("kb-range").textContent = page.total ? ` rows ${fmt(page.offset + 1)}–${fmt(page.offset + page.rows.length)} of ${fmt(page.total)} ` : " no rows ";
}
async function searchPatterns() {
  const hits = await api(`/api/kb/patterns?q=${encodeURIComponent($("pattern-q").value)}`);
  $("pattern-hits").replaceChildren(...hits.map((hit) => el("li", {}, el("strong", { text: hit.name }), hit.summary ? ` — ${hit.summary}` : (hit.stages ? ` (${hit.stages.join(", ")})` : ""))));
  if (!hits.length) $("pattern-hits").append(el("li", { class: "hint", text: "no pattern matches" }));
}
async function runSql() {
  const result = await api("/api/kb/query", { body: { sql: $("sql").value } });
  table($("sql-rows"), result.columns.map((c, i) => ({ key: i, label: c, render: (row) => (row[i] === null ? "–" : typeof row[i] === "number" ? fmt(row[i]) : String(row[i]).slice(0, 200)) })), result.rows);
  if (result.total > result.rows.length) $("sql-rows").append(el("caption", { text: `first ${result.rows.length} of ${result.total} rows` }));
}

// -- plots ---------------------------------------------------------------------------------
async function drawPlots() {
  if (!state.session) { say("Open a dataset first."); return; }
  const session = state.session.session_id;
  const tasks = [];
  if (state.searchHistory.length) drawSearchPlot("plot-time");
  else $("plot-time").replaceChildren(el("p", { class: "hint", text: "Run a search (tab 5) to see its best score over time." }));
  const predicted = state.versions.filter((v) => v.predicted_score !== null && v.mean !== null);
  if (predicted.length) {
    const lo = Math.min(...predicted.map((v) => Math.min(v.predicted_lower, v.mean)));
    const hi = Math.max(...predicted.map((v) => Math.max(v.predicted_upper, v.mean)));
    tasks.push(plot("plot-pred", [
      { x: predicted.map((v) => v.predicted_score), y: predicted.map((v) => v.mean), text: predicted.map((v) => `v${v.number} ${specLabel(v.spec)}`), mode: "markers", name: "versions",
        error_x: { type: "data", symmetric: false, array: predicted.map((v) => v.predicted_upper - v.predicted_score), arrayminus: predicted.map((v) => v.predicted_score - v.predicted_lower) },
        error_y: { type: "data", array: predicted.map((v) => v.std) } },
      { x: [lo, hi], y: [lo, hi], mode: "lines", name: "observed = predicted", line: { dash: "dot" } },
    ], { xaxis: { title: { text: "predicted" } }, yaxis: { title: { text: "observed (CV)" } } }));
  } else {
    $("plot-pred").replaceChildren(el("p", { class: "hint", text: "Evaluate a recommendation to compare its prediction with what was observed." }));
  }
  tasks.push(api(`/api/sessions/${session}/neighbourhood`).then((map) => plot("plot-map", [
    { x: map.points.map((p) => p.x), y: map.points.map((p) => p.y), text: map.points.map((p) => p.name), mode: "markers", name: "knowledge base", marker: { size: 6, opacity: 0.5 } },
    { x: [map.user.x], y: [map.user.y], text: [map.user.name], mode: "markers+text", textposition: "top center", name: "your data", marker: { size: 16, symbol: "star", color: "#d62728" } },
  ], { xaxis: { title: { text: "component 1" } }, yaxis: { title: { text: "component 2" } } })));
  tasks.push(api(`/api/sessions/${session}/answers/how_much_more_data_helps`).then((answer) => {
    if (!answer.points.length) { $("plot-curves").replaceChildren(el("p", { class: "hint", text: answer.summary })); return null; }
    const groups = {};
    // one line per (learner, dataset), coloured by family: the chosen pipelines' families first
    const chosen = new Set(state.recs ? state.recs.recommendations.slice(0, 3).map((r) => r.family) : []);
    const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"];
    const families = [...new Set(answer.points.map((p) => p.family))].sort((a, b) => chosen.has(b) - chosen.has(a)).slice(0, palette.length);
    for (const p of answer.points) if (families.includes(p.family)) (groups[`${p.family}|${p.learner}|${p.dataset_id}`] ||= []).push(p);
    const shown = new Set();
    const traces = Object.entries(groups).map(([key, points]) => {
      const [family, learner, dataset] = key.split("|");
      points.sort((a, b) => a.train_size - b.train_size);
      const first = !shown.has(family);
      shown.add(family);
      return { x: points.map((p) => p.train_size), y: points.map((p) => p.accuracy), mode: "lines", name: family, legendgroup: family, showlegend: first,
        text: points.map(() => `${learner} on ${dataset}`), line: { color: palette[families.indexOf(family)], width: 1 }, opacity: 0.55 };
    });
    return plot("plot-curves", traces, { xaxis: { type: "log", title: { text: "training rows" } }, yaxis: { title: { text: "accuracy" } },
      shapes: answer.rows[0] ? [{ type: "line", x0: answer.rows[0].rows_now, x1: answer.rows[0].rows_now, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: "#333" } }] : [] });
  }));
  tasks.push(api(`/api/sessions/${session}/answers/which_hyperparameters_matter`).then((answer) => {
    if (!answer.rows.length) { $("plot-importance").replaceChildren(el("p", { class: "hint", text: answer.summary })); return null; }
    const rows = answer.rows.slice(0, 20).reverse();
    return plot("plot-importance", [{ type: "bar", orientation: "h", x: rows.map((r) => r.importance), y: rows.map((r) => `${r.family}: ${r.hyperparameter}`), text: rows.map((r) => `best ${r.best_value}`) }],
      { xaxis: { title: { text: "share of explained variance" } }, margin: { l: 220, r: 10, t: 10, b: 45 } });
  }));
  const results = await Promise.allSettled(tasks);
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length) say(failed[0].reason.message);
}

// -- wiring --------------------------------------------------------------------------------
function wire() {
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("upload").addEventListener("change", guarded(() => upload($("upload").files[0])));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", guarded((event) => { drop.classList.remove("over"); return upload(event.dataTransfer.files[0]); }));
  $("path-form").addEventListener("submit", guarded(async () => { say(""); showTable(await api("/api/data/open", { body: { path: $("path").value } })); }));
  $("target-form").addEventListener("submit", guarded(useTarget));
  $("estimator").addEventListener("change", guarded(async () => {
    const form = await api(`/api/sessions/${state.session.session_id}/form`, { body: { estimator: $("estimator").value } });
    renderForm(form, state.editorParent, "user", state.editorParent ? `edit of v${state.editorParent.number}: estimator changed` : "written in the editor");
  }));
  $("load-json").addEventListener("click", guarded(async () => {
    let spec;
    try { spec = JSON.parse($("spec-json").value); } catch (error) { throw new Error(`the spec is not JSON (${error.message})`); }
    await loadSpec(spec, state.editorParent, "user", "written as JSON");
  }));
  $("evaluate").addEventListener("click", guarded(evaluate));
  $("reload-versions").addEventListener("click", guarded(loadVersions));
  $("compare").addEventListener("click", guarded(compare));
  $("constraints").addEventListener("input", checkConstraints);
  $("constraints").addEventListener("submit", guarded(() => startSearch(false)));
  $("replan-search").addEventListener("click", guarded(() => startSearch(true)));
  $("stop-search").addEventListener("click", guarded(async () => { if (state.searchJob) { await api(`/api/jobs/${state.searchJob}/stop`, { body: {} }); $("search-status").textContent = "stopping: keeping the best so far…"; } }));
  $("kb-table").addEventListener("change", guarded(() => { state.kb = { offset: 0, limit: 50, sort: null, descending: false }; $("kb-rows").replaceChildren(); return loadKbPage(); }));
  $("kb-prev").addEventListener("click", guarded(() => { state.kb.offset = Math.max(0, state.kb.offset - state.kb.limit); return loadKbPage(); }));
  $("kb-next").addEventListener("click", guarded(() => { state.kb.offset += state.kb.limit; return loadKbPage(); }));
  $("pattern-form").addEventListener("submit", guarded(searchPatterns));
  $("sql-form").addEventListener("submit", guarded(runSql));
  $("draw-plots").addEventListener("click", guarded(drawPlots));
  document.querySelector("[data-testid=start-search]").disabled = true;
}
document.addEventListener("DOMContentLoaded", () => {
  wire();
  const match = location.hash.match(/s=([0-9a-f]+)/);
  if (match) openSession(match[1]).then(() => showTab("recommend")).catch((e) => say(e.message));
  loadSessions().catch((e) => say(e.message));
});
