// The Search tab (page.html), served as /static/search.js after page.js, whose $, api and openCalls it uses.
// A snippet's matched words become <mark> elements around text nodes: call text is never parsed as HTML.
let found = {count: 0, limit: 20, offset: 0, results: []};

async function searchChoices() {  // the categories (healthz), and the service's topics when it has any
  const health = await (await fetch("healthz")).json();
  $("search-category").replaceChildren(new Option("any category", ""), ...health.labels.map(l => new Option(l, l)));
  try {
    const {topics} = await api("v1/topics");
    $("search-topic").replaceChildren(new Option("any topic", ""), ...topics.map(t => new Option(t.name, t.name)));
    $("search-topic").hidden = !topics.length;
  } catch (e) { $("search-topic").hidden = true; }  // no topics route (404) or none to offer
}

async function runSearch(offset = 0) {
  $("search-error").textContent = "";
  const asked = new URLSearchParams({q: $("search-q").value.trim(), limit: found.limit, offset});
  [["category", "search-category"], ["side", "search-side"], ["topic", "search-topic"]].forEach(([name, id]) => {
    if ($(id).value && !$(id).hidden) asked.set(name, $(id).value);
  });
  try {
    found = await api(`v1/search?${asked}`);
    renderFound();
  } catch (e) { $("search-error").textContent = "Error: " + e.message; }
}

// The snippet as nodes: offsets count characters (code points, as the service does), not UTF-16 units.
function marked(snippet) {
  const chars = Array.from(snippet.text), parts = [];
  let at = 0;
  for (const [start, end] of snippet.highlights) {
    if (start < at) continue;  // overlapping spans: the first one is marked
    parts.push(document.createTextNode(chars.slice(at, start).join("")));
    const mark = document.createElement("mark"); mark.textContent = chars.slice(start, end).join("");
    parts.push(mark); at = end;
  }
  parts.push(document.createTextNode(chars.slice(at).join("")));
  return parts;
}

function renderFound() {
  const {count, offset, results} = found;
  $("search-count").textContent = `${count} call${count === 1 ? "" : "s"}` +
    (results.length && results.length < count ? ` · ${offset + 1}–${offset + results.length}` : "");
  $("search-prev").hidden = offset === 0;
  $("search-next").hidden = offset + results.length >= count;
  $("search-results").start = offset + 1;
  const ids = results.map(r => r.id);
  $("search-results").replaceChildren(...results.map((r, i) => {
    const li = document.createElement("li"); li.className = "found"; li.dataset.id = r.id;
    const open = document.createElement("button"); open.className = "open-call";
    const confidence = r.confidence == null ? "" : ` (${Math.round(r.confidence * 100)}%)`;
    open.textContent = `${r.source} · ${r.label || "(no label)"}${confidence}`;
    open.addEventListener("click", () => openCalls(ids, i));
    const facts = document.createElement("span"); facts.className = "small";
    facts.textContent = [r.needs_review && "needs review", r.agent && `agent ${r.agent}`, r.called_at,
      r.topics.length && r.topics.join(", ")].filter(Boolean).map(x => ` · ${x}`).join("");
    const words = document.createElement("p"); words.className = "snippet"; words.append(...marked(r.snippet));
    li.append(open, facts, words); return li;
  }));
}

$("search-go").addEventListener("click", () => runSearch(0));
$("search-q").addEventListener("keydown", (e) => { if (e.key === "Enter") runSearch(0); });
$("search-prev").addEventListener("click", () => runSearch(Math.max(0, found.offset - found.limit)));
$("search-next").addEventListener("click", () => runSearch(found.offset + found.limit));
document.querySelector('nav [data-tab="search"]').addEventListener("click", () => {
  if ($("search-category").options.length <= 1) searchChoices().catch(() => {});
  $("search-q").focus();
});
