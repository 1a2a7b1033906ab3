// Jedel dispatcher console. Words come from the page (#words), in the dispatcher's language.
// Everything shown is read from the API under the dispatcher's own session; /api/v1/live only
// says what changed, and the console reads that again.
"use strict";
const W = JSON.parse(document.getElementById("words").textContent);
const LANG = document.documentElement.lang;
const panel = document.getElementById("panel");
const who = document.getElementById("who");
const live = document.getElementById("live");
const actions = document.getElementById("actions");
const refusals = document.getElementById("refusals");
const PRIORITY_COLOURS = { critical: "#b3261e", high: "#d9480f", medium: "#b08800", low: "#2b6cb0" };
const state = { me: null, incidents: [], selected: null, map: null, regions: null, settlements: null, areas: null, reach: null, source: null, timers: {}, view: "incidents", refusal: null, tracks: null, whyOpen: null, groupsOpen: null, notice: null, placing: null, placed: null };

// What the last action said stays shown across the re-renders live changes cause (15 s).
function notice() {
  return state.notice && Date.now() - state.notice.at < 15000 ? state.notice.text : "";
}

function say(key, values) {
  return (W[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values && values[name]));
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function csrf() {
  const found = document.cookie.split("; ").find((item) => item.startsWith("jedel_csrf="));
  return found ? decodeURIComponent(found.slice("jedel_csrf=".length)) : "";
}

async function api(method, path, body) {
  const headers = { "Accept-Language": LANG, "X-CSRF-Token": csrf() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const send = () => fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await send();
  if (response.status === 401 && !path.startsWith("/api/v1/auth/")) {
    if (await refresh()) {
      headers["X-CSRF-Token"] = csrf();
      response = await send();
    }
  }
  if (response.status === 401 && path !== "/api/v1/auth/sign-in") showSignIn();
  return response;
}

async function refresh() {
  const response = await fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
  return response.ok;
}

async function detail(response) {
  try { return (await response.json()).detail || String(response.status); } catch { return String(response.status); }
}

// Many changes in a burst become one read.
function soon(key, work, ms) {
  clearTimeout(state.timers[key]);
  state.timers[key] = setTimeout(work, ms === undefined ? 120 : ms);
}

function showSignIn(note) {
  if (state.source) { state.source.close(); state.source = null; }
  setLive(null);
  who.textContent = "";
  document.querySelector("header h1").textContent = document.title = say("console.title");
  actions.replaceChildren();
  const username = el("input", { id: "username", autocomplete: "username", required: "" });
  const password = el("input", { id: "password", type: "password", autocomplete: "current-password", required: "" });
  const form = el("form", {
    class: "sign-in",
    onsubmit: async (event) => {
      event.preventDefault();
      const response = await api("POST", "/api/v1/auth/sign-in", { username: username.value, password: password.value });
      if (response.ok) start();
      else showSignIn(await detail(response));
    },
  }, el("label", { for: "username" }, say("console.username")), username,
     el("label", { for: "password" }, say("console.password")), password,
     el("button", { type: "submit", class: "primary" }, say("app.sign_in")));
  panel.replaceChildren(...(note ? [el("p", { class: "note", role: "alert" }, note)] : []), form);
  username.focus();
}

function setLive(on) {
  live.textContent = on === null ? "" : say(on ? "console.live" : "console.reconnecting");
  live.className = on ? "on" : "off";
}

async function start() {
  const response = await api("GET", "/api/v1/auth/me");
  if (!response.ok) { showSignIn(); return; }
  state.me = await response.json();
  if (state.me.role === "volunteer") { window.location.assign("/app"); return; }
  who.textContent = `${state.me.display_name} · ${state.me.regions.join(", ")}`;
  // The page is served before anyone signs in: its title names the role once it is known.
  const titled = say(`console.title.${state.me.role}`);
  document.querySelector("header h1").textContent = titled;
  document.title = titled;
  actions.replaceChildren(el("button", {
    type: "button",
    onclick: async () => { await api("POST", "/api/v1/auth/sign-out"); showSignIn(); },
  }, say("app.sign_out")));
  await drawRegions();
  if (state.me.role === "analyst") state.view = "reports";  // counts are an analyst's work
  await loadIncidents();
  await countRefused();
  if (state.view === "reports") renderReports();
  listen();
}

const SEES_REFUSALS = ["dispatcher", "admin"];
const REPORTS = ["analyst", "admin"];

function reportsButton() {
  return el("button", {
    type: "button", id: "reports", "aria-pressed": String(state.view === "reports"),
    onclick: () => { state.view = state.view === "reports" ? "incidents" : "reports"; showView(); },
  }, say("console.reports"));
}

// The registry's report per region over a period (counts only), with the active share on the map.
function renderReports() {
  const day = (offset) => new Date(Date.now() - offset * 86400000).toISOString().slice(0, 10);
  const from = el("input", { id: "report-from", type: "date", value: state.reportFrom || day(29) });
  const to = el("input", { id: "report-to", type: "date", value: state.reportTo || day(0) });
  const csv = el("a", { id: "report-csv", class: "secondary" }, say("console.report_csv"));
  const note = el("p", { class: "note", role: "status" });
  const table = el("table", { id: "report" });
  const show = async () => {
    state.reportFrom = from.value; state.reportTo = to.value;
    const query = `from=${from.value}&to=${to.value}`;
    csv.href = `/api/v1/reports/regions?${query}&format=csv`;
    const asked = (state.reportAsked = (state.reportAsked || 0) + 1);
    const response = await api("GET", `/api/v1/reports/regions?${query}`);
    if (asked !== state.reportAsked) return;  // a later question's answer is the one to show
    if (!response.ok) { note.textContent = await detail(response); table.replaceChildren(); return; }
    note.textContent = "";
    const rows = await response.json();
    const share = (row) => row.active_share === null ? "—" : `${(row.active_share * 100).toFixed(1)} %`;
    const columns = ["console.report_region", "console.report_incidents", "console.report_offers",
      "console.report_deployments", "console.report_hours", "console.report_active"];
    table.replaceChildren(
      el("thead", {}, el("tr", {}, ...columns.map((key) => el("th", { scope: "col" }, say(key))))),
      el("tbody", {}, ...rows.map((row) => el("tr", { "data-region": row.region_code || "" },
        el("th", { scope: "row" }, (state.regionNames || {})[row.region_code] || row.region_code || "—"),
        el("td", {}, String(row.incidents_opened)), el("td", {}, String(row.offers_sent)),
        el("td", {}, String(row.deployments)), el("td", {}, row.volunteer_hours.toFixed(1)),
        el("td", { class: "share" }, share(row))))));
    const shares = Object.fromEntries(rows.map((row) => [row.region_code, row.active_share]));
    if (state.regions) state.regions.setStyle((feature) => {
      const value = shares[feature.properties.code];
      const tone = value === null || value === undefined ? "#e2e8f0" : `hsl(150, 45%, ${Math.round(92 - Math.min(value, 1) * 55)}%)`;
      return { color: "#475569", weight: 1, fillColor: tone, fillOpacity: 1 };
    });
  };
  panel.replaceChildren(
    el("h2", {}, say("console.reports")),
    el("label", { for: "report-from" }, say("console.report_from")), from,
    el("label", { for: "report-to" }, say("console.report_to")), to,
    el("button", { type: "button", class: "primary", id: "report-show", onclick: show }, say("console.report_show")), " ",
    csv, note, el("div", { class: "wide" }, table));
  show();
}

// The queue of refused alerts: its count in the bar, read again every 20 s and on reconnecting.
async function countRefused() {
  if (state.me && REPORTS.includes(state.me.role) && !SEES_REFUSALS.includes(state.me.role)) {
    refusals.replaceChildren(reportsButton());
    return;
  }
  if (!state.me || !SEES_REFUSALS.includes(state.me.role)) { refusals.replaceChildren(); return; }
  const response = await api("GET", "/api/v1/refused-alerts?limit=200");
  if (!response.ok) return;
  const queue = await response.json();
  state.queue = queue.items;
  const buttons = [el("button", {
    type: "button", id: "refused", class: queue.open ? "alarm" : "",
    "aria-pressed": String(state.view === "refused"),
    onclick: () => { state.view = state.view === "refused" ? "incidents" : "refused"; state.refusal = null; showView(); },
  }, say("console.refused", { count: queue.open }))];
  if (REPORTS.includes(state.me.role)) buttons.push(" ", reportsButton());
  if (state.me.role === "admin") {
    buttons.push(" ", el("button", {
      type: "button", id: "senders", "aria-pressed": String(state.view === "senders"),
      onclick: () => { state.view = state.view === "senders" ? "incidents" : "senders"; showView(); },
    }, say("console.senders")));
  }
  refusals.replaceChildren(...buttons);
  if (state.view === "refused" && !state.refusal) renderRefused();
}

function showView() {
  countRefused();
  if (state.view === "reports") renderReports();
  else if (state.view === "senders") renderSenders();
  else if (state.view === "refused") renderRefused();
  else { render(); if (state.selected) loadGroup(state.selected); }
}

function renderRefused() {
  const back = el("button", { type: "button", class: "secondary", onclick: () => { state.view = "incidents"; showView(); } }, say("console.back"));
  const items = (state.queue || []).map((item) => el("li", {},
    el("button", { type: "button", class: "incident refusal", "data-refusal": item.id, onclick: () => openRefusal(item.id) },
      el("strong", {}, item.title), " · ", new Date(item.refused_at).toLocaleString(LANG),
      el("br"), item.sender ? say("console.refused_from", { sender: item.sender }) : "",
      " · ", item.region_codes.length ? item.region_codes.join(", ") : say("console.refused_unplaced"))));
  panel.replaceChildren(el("h2", {}, say("console.refused", { count: items.length })), back,
    items.length ? el("ul", { class: "incidents" }, ...items) : el("p", { class: "empty" }, say("console.refused_none")));
}

// Admins: the sender registry, and suspending a sender at once (the intake refuses it).
async function renderSenders(note) {
  const response = await api("GET", "/api/v1/senders");
  if (!response.ok) return;
  const senders = await response.json();
  const back = el("button", { type: "button", class: "secondary", onclick: () => { state.view = "incidents"; showView(); } }, say("console.back"));
  const said = el("p", { class: "note", role: "status" }, note || "");
  const act = async (path, body) => {
    const answer = await api("POST", path, body);
    await renderSenders(await detail(answer));
  };
  const rows = senders.map((sender) => {
    const where = sender.regions === "all" ? say("console.all_regions") : sender.regions.join(", ");
    const item = el("li", { "data-sender": sender.id, class: sender.suspended ? "suspended" : "" },
      el("strong", {}, sender.name), ` (${sender.id}) · ${where}`);
    if (sender.suspended) {
      item.append(el("br"), say("console.suspended_since", { reason: sender.suspended.reason }), " ",
        el("button", { type: "button", class: "secondary", onclick: () => act("/api/v1/senders/resume", { sender_id: sender.id }) }, say("console.resume")));
    } else {
      item.append(" ", el("button", {
        type: "button", class: "danger",
        onclick: () => {
          const reason = window.prompt(say("console.suspend_reason", { sender: sender.name }));
          if (reason) act("/api/v1/senders/suspend", { sender_id: sender.id, reason });
        },
      }, say("console.suspend")));
    }
    return item;
  });
  panel.replaceChildren(el("h2", {}, say("console.senders")), back, said, el("ul", { class: "senders" }, ...rows));
}

async function openRefusal(refusalId) {
  state.refusal = refusalId;
  const response = await api("GET", `/api/v1/refused-alerts/${refusalId}`);
  if (state.refusal !== refusalId) return;  // another was opened meanwhile
  if (!response.ok) {
    const why = await detail(response);
    state.refusal = null;
    renderRefused();
    panel.prepend(el("p", { class: "note", role: "alert" }, why));
    return;
  }
  const item = await response.json();
  const note = el("p", { class: "note", role: "status" });
  const text = el("textarea", { id: "correction", rows: "16", spellcheck: "false" });
  text.value = item.message;
  const done = async (response) => {
    note.textContent = await detail(response);
    if (response.ok) { state.refusal = null; await countRefused(); panel.prepend(note); }
  };
  panel.replaceChildren(
    el("h2", {}, item.title),
    el("button", { type: "button", class: "secondary", onclick: () => { state.refusal = null; renderRefused(); } }, say("console.back")),
    el("p", { class: "reason" }, item.reason),
    el("p", {}, item.sender ? say("console.refused_from", { sender: item.sender }) : "",
      " · ", item.region_codes.length ? item.region_codes.join(", ") : say("console.refused_unplaced")),
    el("label", { for: "correction" }, say("console.refused_message")), text,
    el("button", { type: "button", class: "primary", id: "resubmit",
      onclick: async () => done(await api("POST", `/api/v1/refused-alerts/${refusalId}/resubmit`, { message: text.value })) },
      say("console.resubmit")), " ",
    el("button", { type: "button", class: "danger", id: "dismiss",
      onclick: async () => {
        if (!window.confirm(say("console.dismiss_confirm"))) return;
        await done(await api("POST", `/api/v1/refused-alerts/${refusalId}/dismiss`));
      } }, say("console.dismiss")),
    note);
  text.focus();
}

function mine(regionCodes) {
  return state.me.role === "admin" || regionCodes.some((code) => state.me.regions.includes(code));
}

async function drawRegions() {
  if (!state.map) {
    state.map = L.map("map", { zoomSnap: 0.25, attributionControl: false });
    state.map.getContainer().setAttribute("aria-label", say("console.map"));
    // Placing an incident's area: a click sets the circle's centre.
    state.map.on("click", (event) => {
      if (!state.placing) return;
      state.placing.at = [event.latlng.lng, event.latlng.lat];
      drawPlaced();
      const send = document.getElementById("place-send");
      if (send) send.disabled = false;
    });
  }
  if (state.regions) state.regions.remove();
  const response = await api("GET", "/api/v1/regions");
  const regions = await response.json();
  state.regionNames = Object.fromEntries(regions.features.map((feature) =>
    [feature.properties.code, feature.properties[`name_${LANG}`] || feature.properties.code]));
  state.regions = L.geoJSON(regions, {
    style: (feature) => mine([feature.properties.code])
      ? { color: "#1d3557", weight: 2, fillColor: "#f1f5f9", fillOpacity: 1 }
      : { color: "#94a3b8", weight: 1, fillColor: "#e2e8f0", fillOpacity: 1 },
    onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties[`name_${LANG}`] || feature.properties.code),
  }).addTo(state.map);
  await drawSettlements();
  const own = L.featureGroup();
  state.regions.eachLayer((layer) => { if (mine([layer.feature.properties.code])) own.addLayer(layer); });
  const bounds = own.getLayers().length ? own.getBounds() : state.regions.getBounds();
  state.map.fitBounds(bounds, { padding: [10, 10] });
}

async function drawSettlements() {
  if (state.settlements) state.settlements.remove();
  const response = await api("GET", "/api/v1/settlements");
  if (!response.ok) return;
  const settlements = await response.json();
  const name = (properties) => (LANG === "en" ? properties.name : properties.name_ru);
  state.settlements = L.geoJSON(settlements, {
    filter: (feature) => mine([feature.properties.region_code]),
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      radius: feature.properties.population >= 100000 ? 4 : 2.5, color: "#334155", weight: 1, fillOpacity: 0.8,
    }),
    onEachFeature: (feature, layer) => layer.bindTooltip(name(feature.properties), {
      permanent: feature.properties.population >= 50000, direction: "right", className: "place",
    }),
  }).addTo(state.map);
}

async function loadIncidents() {
  const response = await api("GET", `/api/v1/incidents?status=open&limit=1000&lang=${LANG}`);
  if (!response.ok) return;
  const collection = await response.json();
  state.incidents = collection.features.filter((feature) => mine(feature.properties.region_codes));
  if (state.areas) state.areas.remove();
  state.areas = L.geoJSON({ type: "FeatureCollection", features: state.incidents }, {
    style: (feature) => ({ color: PRIORITY_COLOURS[feature.properties.priority] || "#444", weight: 2, fillOpacity: 0.25 }),
    onEachFeature: (feature, layer) => layer.on("click", () => { if (!state.placing) select(feature.id); }),
  }).addTo(state.map);
  if (state.selected && !state.incidents.some((feature) => feature.id === state.selected)) state.selected = null;
  if (state.view !== "incidents") return;
  render();
  if (state.selected) await loadGroup(state.selected);
}

function title(properties) {
  return properties.headline || properties.event || properties.type;
}

function render(group) {
  const list = state.incidents.length
    ? el("ul", { class: "incidents" }, ...state.incidents.map((feature) => el("li", {},
        el("button", {
          type: "button",
          class: feature.id === state.selected ? "incident chosen" : "incident",
          "aria-pressed": String(feature.id === state.selected),
          "data-incident": feature.id,
          onclick: () => select(feature.id),
        }, el("span", { class: `priority ${feature.properties.priority}` }, say(`priority.${feature.properties.priority}`)),
           " ", title(feature.properties),
           feature.properties.is_exercise ? el("span", { class: "drill" }, ` · ${say("console.exercise")}`) : "",
           feature.properties.area_to_confirm ? el("span", { class: "confirm" }, ` · ${say("console.area_to_confirm")}`) : ""))))
    : el("p", { class: "empty" }, say("console.no_incidents"));
  const detailPane = el("section", { id: "group", "aria-label": say("console.group") });
  const chosen = state.incidents.find((feature) => feature.id === state.selected);
  if (chosen && chosen.properties.area_to_confirm) detailPane.append(placeTool(chosen));
  if (group !== undefined) detailPane.append(...group);
  else if (state.incidents.length) detailPane.append(el("p", { class: "empty" }, say("console.choose")));
  panel.replaceChildren(el("h2", {}, say("console.incidents")), list, detailPane);
}

// One line for someone a dispatcher may ask by name: the role to ask them for, and the button.
function askControls(group, open, volunteerId, name, preferred, tell) {
  const role = el("select", { "aria-label": `${say("console.role")}: ${name}` },
    ...open.map((value) => el("option", { value }, say(`role.${value}`))));
  if (preferred && open.includes(preferred)) role.value = preferred;
  const button = el("button", {
    type: "button", class: "ask",
    onclick: async () => {
      const response = await api("POST", `/api/v1/incidents/${group.incident_id}/mobilization/ask`,
        { volunteer_id: volunteerId, role: role.value });
      let body = {};
      try { body = await response.json(); } catch { /* no body */ }
      tell([`${name}:`, body.detail || String(response.status), ...(body.lines || [])].join(" "));
    },
  }, say("console.ask"));
  return [" ", role, " ", button];
}

// The standing groups of the group's region and its neighbours (read when opened).
function standingGroups(group, open, tell) {
  // Whether it is open is kept at the click itself: a live re-render between the click and its
  // toggle event would otherwise draw it closed again.
  const box = el("details", { class: "standing" }, el("summary", {
    onclick: () => { state.groupsOpen = box.open ? null : group.incident_id; },
  }, say("console.standing")));
  const draw = (groups) => {
    box.replaceChildren(box.firstChild);  // the summary stays
    if (!groups.length) { box.append(el("p", { class: "empty" }, say("console.standing_none"))); return; }
    for (const standing of groups) {
      box.append(el("h4", {}, `${standing.name} · ${standing.region_code}`,
        standing.own_region ? "" : ` · ${say("console.neighbour")}`));
      box.append(el("ul", { class: "members" }, ...standing.members.map((member) => {
        const item = el("li", { "data-volunteer": member.volunteer_id },
          `${say(`role.${member.role}`)}: ${member.name} · ${say("console.km", { km: (member.distance_m / 1000).toFixed(1) })}`,
          member.on_call ? "" : ` · ${say("console.off_call")}`,
          member.offer_status ? ` · ${say(`console.offer.${member.offer_status}`)}` : "");
        if (!member.offer_status) item.append(...askControls(group, open, member.volunteer_id, member.name, member.role, tell));
        return item;
      })));
    }
  };
  box.ontoggle = async () => {
    state.groupsOpen = box.open ? group.incident_id : null;
    if (!box.open || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    // What was read last is drawn at once (a live change redraws the group every few seconds),
    // then read again: who has been asked since changes.
    const kept = state.standingRead && state.standingRead.incident === group.incident_id
      ? state.standingRead.groups : null;
    if (kept) draw(kept);
    const response = await api("GET", `/api/v1/incidents/${group.incident_id}/standing-groups`);
    if (!response.ok) return;
    const groups = await response.json();
    state.standingRead = { incident: group.incident_id, groups };
    if (box.isConnected) draw(groups);
  };
  if (state.groupsOpen === group.incident_id) box.open = true;
  return box;
}

// The area the intake could not place: the dispatcher clicks its centre on the map, sets the
// radius, and sends it (a CAP Update from Jedel's dispatchers, judged by the intake).
function placeTool(feature) {
  const mine = state.placing && state.placing.id === feature.id;
  // The radius typed is kept whatever redraws the tool (live changes redraw the panel).
  const km = el("input", { id: "place-km", type: "number", min: "0.1", max: "100", step: "0.1", value: String(state.placeKm || 3) });
  // What the last send said stays shown when a live change redraws the tool meanwhile.
  const note = el("p", { class: "note", role: "status" }, mine && !state.placing.at ? say("console.place_click") : notice());
  const send = el("button", { type: "button", class: "primary", id: "place-send" }, say("console.place_send"));
  send.disabled = !(mine && state.placing.at);
  km.oninput = () => { state.placeKm = parseFloat(km.value) || 3; drawPlaced(); };
  send.onclick = async () => {
    if (!state.placing || !state.placing.at) return;
    const response = await api("POST", `/api/v1/incidents/${feature.id}/area`,
      // The radius drawn on the map: the last one typed, even into a tool a live change has
      // since redrawn (this tool's own field may still show the one before).
      { center: state.placing.at, radius_m: Math.round((state.placeKm || parseFloat(km.value) || 3) * 1000) });
    note.textContent = await detail(response);
    if (response.ok) { state.notice = { text: note.textContent, at: Date.now() }; state.placing = null; drawPlaced(); }
  };
  return el("section", { class: "place" },
    el("p", { class: "confirm" }, say("console.area_to_confirm_why")),
    el("button", {
      type: "button", class: "secondary", id: "place-start",
      onclick: () => { state.placing = { id: feature.id, at: null }; note.textContent = say("console.place_click"); drawPlaced(); },
    }, say("console.place")), " ",
    el("label", { for: "place-km" }, say("console.place_radius")), km, send, note);
}

function drawPlaced() {
  if (state.placed) { state.placed.remove(); state.placed = null; }
  if (!state.placing || !state.placing.at) return;
  const [lon, lat] = state.placing.at;
  state.placed = L.circle([lat, lon], { radius: (state.placeKm || 3) * 1000, color: "#0b57d0", weight: 2, dashArray: "6 4", className: "placed-area" }).addTo(state.map);
}

async function select(incidentId) {
  state.selected = incidentId;
  state.view = "incidents";
  render();
  await loadGroup(incidentId);
}

async function loadGroup(incidentId) {
  const response = await api("GET", `/api/v1/incidents/${incidentId}/mobilization`);
  if (incidentId !== state.selected || state.view !== "incidents") return;
  if (state.reach) { state.reach.remove(); state.reach = null; }
  if (response.status === 404 || response.status === 403) { render([el("p", { class: "empty" }, say("console.no_group"))]); return; }
  if (!response.ok) return;
  const group = await response.json();
  const [lon, lat] = group.center;
  state.reach = L.circle([lat, lon], { radius: group.radius_m, color: "#1d3557", weight: 1, dashArray: "4 4", fill: false }).addTo(state.map);
  render(groupView(group));
  await drawTracks(group);
}

// The members' tracks and newest positions (kept only while they are deployed).
async function drawTracks(group) {
  const response = await api("GET", `/api/v1/incidents/${group.incident_id}/tracks`);
  if (state.tracks) { state.tracks.remove(); state.tracks = null; }
  if (!response.ok || group.incident_id !== state.selected) return;
  const body = await response.json();
  const names = Object.fromEntries(group.members.map((member) => [member.volunteer_id, member.name || "—"]));
  const layer = L.layerGroup();
  for (const member of body.members) {
    const colour = member.released ? "#64748b" : member.field_status === "on_scene" ? "#14532d" : "#0b57d0";
    if (member.track) {
      layer.addLayer(L.polyline(member.track.map(([x, y]) => [y, x]), { color: colour, weight: 3, opacity: 0.8 }));
    }
    const [x, y] = member.newest;
    const when = new Date(member.newest_at).toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
    layer.addLayer(L.circleMarker([y, x], { radius: 6, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1, className: "member-position" })
      .bindTooltip(`${say(`role.${member.role}`)}: ${names[member.volunteer_id] || "—"} · ${when}`));
  }
  state.tracks = layer.addTo(state.map);
}

function groupView(group) {
  const header = el("p", { class: `status ${group.status}` }, say(`console.status.${group.status}`), " · ",
    say("console.wave", { wave: group.wave, km: (group.radius_m / 1000).toFixed(1) }));
  const head = el("tr", {}, ...["console.role", "console.needed", "console.accepted", "console.pending", "console.open_places"]
    .map((key) => el("th", { scope: "col" }, say(key))));
  const rows = group.roles.map((role) => el("tr", { "data-role": role.role, class: role.open_places === 0 ? "filled" : "" },
    el("th", { scope: "row" }, say(`role.${role.role}`)),
    el("td", { class: "needed" }, String(role.needed)),
    el("td", { class: "accepted" }, String(role.accepted)),
    el("td", { class: "pending" }, String(role.pending)),
    el("td", { class: "open" }, group.status === "closed" ? "—"
      : role.open_places === 0 ? `✓ ${say("console.filled")}` : String(role.open_places))));
  const table = el("table", { id: "roles" }, el("caption", {}, say("console.group")), el("thead", {}, head), el("tbody", {}, ...rows));
  const note = el("p", { class: "note", role: "status" }, notice());
  const tell = (text) => { state.notice = { text, at: Date.now() }; note.textContent = text; };
  const steer = async (path, body) => tell(await detail(await api("POST", path, body)));
  const open = group.status !== "closed";
  const members = el("ul", { class: "members" }, ...group.members.map((member) => {
    const name = member.name || "—";
    const said = member.said_at ? ` (${say("console.said")})` : "";
    const where = member.released_at ? `✗ ${say("console.released")}`
      : member.field_status === "left_area" ? `${say("console.left_area")}${said}`
      : member.arrived_at ? `✓ ${say("console.on_scene")}${said}`
      : say("console.eta", { minutes: Math.round(member.eta_s / 60) }) + said;
    const item = el("li", {
      "data-volunteer": member.volunteer_id,
      class: member.released_at ? "released" : member.arrived_at ? "arrived" : "",
    }, `${say(`role.${member.role}`)}: ${name} · ${where}`);
    if (open && !member.released_at) {
      item.append(" ", el("button", {
        type: "button", class: "release", "aria-label": `${say("console.release")}: ${name}`,
        onclick: async () => {
          if (!window.confirm(say("console.release_confirm", { name }))) return;
          await steer(`/api/v1/incidents/${group.incident_id}/mobilization/members/${member.volunteer_id}/release`);
        },
      }, say("console.release")));
    }
    return item;
  }));
  const offers = el("p", { class: "offers" }, say("console.offers", { sent: group.offers.sent, budget: group.offers.budget === null ? "—" : group.offers.budget }));
  const incident = state.incidents.find((feature) => feature.id === group.incident_id);
  const parts = [el("h3", {}, incident ? title(incident.properties) : group.headline || ""), header, table, offers];
  if (group.status === "active" && group.offers.budget !== null) {
    const by = 10;
    parts.push(el("button", {
      type: "button", class: "primary",
      onclick: () => steer(`/api/v1/incidents/${group.incident_id}/mobilization/budget`, { by }),
    }, say("console.raise", { by })), " ", el("button", {
      type: "button", class: "secondary", id: "widen",
      onclick: () => steer(`/api/v1/incidents/${group.incident_id}/mobilization/widen`),
    }, say("console.widen")));
  }
  if (open) {
    parts.push(" ", el("button", {
      type: "button", class: "danger", id: "call-off",
      onclick: async () => {
        if (!window.confirm(say("console.call_off_confirm"))) return;
        await steer(`/api/v1/incidents/${group.incident_id}/mobilization/call-off`);
      },
    }, say("console.call_off")));
  }
  parts.push(note);
  if (group.members.length) parts.push(el("h4", {}, say("console.members")), members);
  const openRoles = group.status === "active" ? group.roles.filter((role) => role.open_places > 0).map((role) => role.role) : [];
  const why = el("details", { class: "why" }, el("summary", {
    onclick: () => { state.whyOpen = why.open ? null : group.incident_id; },
  }, say("console.why")));
  // Drawn at once from what was read last (live changes redraw the group every few seconds),
  // then read again.
  const fill = (body) => {
    why.querySelector("ol")?.remove();
    // Someone never offered a place may be asked by name, for a role with a place open.
    why.append(el("ol", {}, ...body.explanations.map((entry) => {
      const item = el("li", { "data-volunteer": entry.volunteer_id },
        el("strong", {}, entry.name || "—"), " — ", entry.lines.join(" "));
      if (openRoles.length && !entry.offer_status) {
        item.append(...askControls(group, openRoles, entry.volunteer_id, entry.name || "—", entry.role, tell));
      }
      return item;
    })));
  };
  why.ontoggle = async () => {
    // Kept open across re-renders: live changes redraw the group every few seconds.
    state.whyOpen = why.open ? group.incident_id : null;
    if (!why.open || why.dataset.loaded) return;
    why.dataset.loaded = "1";
    const kept = state.whyRead && state.whyRead.incident === group.incident_id ? state.whyRead.body : null;
    if (kept) fill(kept);
    const response = await api("GET", `/api/v1/incidents/${group.incident_id}/explanations?lang=${LANG}&limit=50`);
    if (!response.ok) return;
    const body = await response.json();
    state.whyRead = { incident: group.incident_id, body };
    fill(body);
  };
  parts.push(why);
  if (state.whyOpen === group.incident_id) why.open = true;
  if (openRoles.length) parts.push(standingGroups(group, openRoles, tell));
  return parts;
}

function listen() {
  if (state.source) state.source.close();
  const source = new EventSource("/api/v1/live");
  state.source = source;
  source.addEventListener("open", () => { setLive(true); soon("incidents", loadIncidents); soon("refused", countRefused); });
  source.addEventListener("change", (event) => {
    const change = JSON.parse(event.data);
    if (change.kind.startsWith("Incident")) soon("incidents", loadIncidents);
    else if (change.incident_id === state.selected) soon("group", () => loadGroup(change.incident_id), 60);
  });
  source.addEventListener("resync", () => soon("incidents", loadIncidents));
  source.addEventListener("signed-out", () => showSignIn());
  source.onerror = () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the access token ran out): renew it, then listen again.
      setTimeout(async () => { if (state.source === source && await refresh()) listen(); }, 1000);
    }
  };
}

// The access token lives 15 minutes; renew it well before.
setInterval(() => { if (state.me) refresh(); }, 10 * 60 * 1000);
// Positions do not come through the live feed (only arrivals do): the selected group's tracks
// are read again every 20 s.
setInterval(() => { if (state.me && state.selected && state.view === "incidents") soon("group", () => loadGroup(state.selected)); }, 20 * 1000);
// Refusals do not come through the live feed (they are about no incident yet): look every 20 s.
setInterval(() => { if (state.me) countRefused(); }, 20 * 1000);
start();
