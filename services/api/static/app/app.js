// Jedel volunteer app. Words come from the page (#words), in the volunteer's language.
"use strict";
const W = JSON.parse(document.getElementById("words").textContent);
const QUEUE = "jedel.answers"; // answers tapped without signal, sent once it returns
const SAID = "jedel.said"; // where I am (per offer, the newest word), said without signal
const FIXES = "jedel.fixes"; // positions taken while deployed and not sent yet (at most 200)
const FIELD = ["en_route", "on_scene", "left_area"];
const heard = {}; // offer id → [word, when]: the API has it, the tracker may not have moved yet
const main = document.getElementById("main");
const signal = document.getElementById("signal");

function say(key, values) {
  return (W[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values && values[name]));
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "onclick" || name === "onsubmit") node[name] = value;
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
  const headers = { "Accept-Language": document.documentElement.lang, "X-CSRF-Token": csrf() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const send = () => fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await send();
  if (response.status === 401 && !path.startsWith("/api/v1/auth/")) {
    const refreshed = await fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
    if (refreshed.ok) {
      headers["X-CSRF-Token"] = csrf();
      response = await send();
    }
  }
  return response;
}

async function detail(response) {
  try { return (await response.json()).detail || String(response.status); } catch { return String(response.status); }
}

function showSignIn(note) {
  const phone = el("input", { id: "phone", type: "tel", autocomplete: "tel", required: "" });
  const form = el("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      const response = await api("POST", "/api/v1/auth/code", { phone: phone.value });
      if (response.ok) showCode(phone.value);
      else showSignIn(await detail(response));
    },
  }, el("label", { for: "phone" }, say("app.phone")), phone,
     el("button", { class: "yes", type: "submit" }, say("app.send_code")));
  main.replaceChildren(...(note ? [el("p", { class: "note", role: "alert" }, note)] : []), form);
  phone.focus();
}

function showCode(phoneNumber) {
  const code = el("input", { id: "code", inputmode: "numeric", autocomplete: "one-time-code", required: "" });
  const form = el("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      const response = await api("POST", "/api/v1/auth/code/verify", { phone: phoneNumber, code: code.value });
      if (response.ok) { if (queued().length) flush(); else showOffers(); }
      else main.prepend(el("p", { class: "note", role: "alert" }, await detail(response)));
    },
  }, el("p", {}, say("auth.code_sent")), el("label", { for: "code" }, say("app.code")), code,
     el("button", { class: "yes", type: "submit" }, say("app.sign_in")));
  main.replaceChildren(form);
  code.focus();
}

function stored(key) {
  try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch { return {}; }
}

// What a deployed volunteer says of themselves: kept until the API has it (one word per offer,
// the newest), so a tap on one bar of signal is not lost.
async function tell(offerId, status) {
  localStorage.setItem(SAID, JSON.stringify({ ...stored(SAID), [offerId]: status }));
  for (const button of document.querySelectorAll(`[data-offer="${offerId}"] [data-field]`)) {
    const chosen = button.dataset.field === status;
    button.className = chosen ? "yes" : "";
    button.setAttribute("aria-pressed", String(chosen));
  }
  if (navigator.onLine) await flush();
  if (stored(SAID)[offerId]) { signal.textContent = say("app.queued"); signal.hidden = false; }
}

async function sendSaid() {
  for (const [offerId, status] of Object.entries(stored(SAID))) {
    const response = await api("POST", `/api/v1/me/offers/${offerId}/field-status`, { status });
    if (response.status >= 500 || response.status === 429) return false;
    if (response.status === 401) { showSignIn(); return false; }
    if (response.ok) heard[offerId] = [status, Date.now()];
    const left = stored(SAID);
    if (left[offerId] === status) delete left[offerId];
    localStorage.setItem(SAID, JSON.stringify(left));
  }
  return true;
}

// Location while deployed (on the way or on scene), with the volunteer's consent: fixes are kept
// and sent every 30 s; without signal they wait (the newest 200).
let watching = null;
function share(deployed) {
  if (!deployed || !("geolocation" in navigator)) {
    if (watching !== null) navigator.geolocation.clearWatch(watching);
    watching = null;
    return;
  }
  if (watching !== null) return;
  watching = navigator.geolocation.watchPosition((position) => {
    const fixes = JSON.parse(localStorage.getItem(FIXES) || "[]");
    fixes.push({
      longitude: position.coords.longitude, latitude: position.coords.latitude,
      accuracy_m: position.coords.accuracy, recorded_at: new Date(position.timestamp).toISOString(),
    });
    localStorage.setItem(FIXES, JSON.stringify(fixes.slice(-200)));
  }, () => {}, { enableHighAccuracy: true, maximumAge: 15000 });
}

async function sendFixes() {
  const fixes = JSON.parse(localStorage.getItem(FIXES) || "[]");
  if (!fixes.length) return;
  const response = await api("POST", "/api/v1/me/locations", { fixes });
  // Taken, or refused for good (no consent: 403; nonsense: 422): either way not sent again.
  if (response.ok || response.status === 403 || response.status === 422) {
    const now = JSON.parse(localStorage.getItem(FIXES) || "[]");
    localStorage.setItem(FIXES, JSON.stringify(now.slice(fixes.length)));
  }
  if (response.status === 403) share(false);
}

function queued() {
  try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch { return []; }
}

function keep(answers) {
  localStorage.setItem(QUEUE, JSON.stringify(answers));
}

// Send what was kept, oldest first; an answer leaves the queue once the API has decided it (or
// refused it for good), and stays while there is no signal or no session.
let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const answer of queued()) {
      let response;
      try {
        response = await api("POST", `/api/v1/offers/${answer.offer_id}/${answer.answer}`, {});
      } catch {
        return; // still no signal
      }
      // Not decided yet: the API is down, busy, or the session ran out (sign in, then it is sent).
      if (response.status >= 500 || response.status === 429) return;
      if (response.status === 401) return showSignIn();
      keep(queued().filter((item) => item.offer_id !== answer.offer_id));
      signal.hidden = true;
    }
    try {
      if (!(await sendSaid())) return;
    } catch {
      return; // still no signal: the words stay kept
    }
  } finally {
    flushing = false;
  }
  await showOffers();
}

async function answer(offerId, choice) {
  keep([...queued().filter((item) => item.offer_id !== offerId), { offer_id: offerId, answer: choice }]);
  if (!navigator.onLine) {
    signal.textContent = say("app.queued");
    signal.hidden = false;
    return;
  }
  await flush();
  if (queued().length) {
    signal.textContent = say("app.queued");
    signal.hidden = false;
  }
}

function offerCard(offer) {
  const pending = queued().find((item) => item.offer_id === offer.offer_id);
  const parts = [];
  if (offer.is_exercise) parts.push(el("p", { class: "drill" }, say("page.exercise")));
  parts.push(el("h2", {}, offer.headline || say("role." + offer.role)));
  parts.push(el("p", {}, say("page.role", { role: say("role." + offer.role) })));
  parts.push(el("p", {}, say("app.distance", { km: (offer.distance_m / 1000).toFixed(1) })
    + " · " + say("page.eta", { minutes: Math.max(1, Math.round(offer.eta_s / 60)) })));
  if (pending) {
    parts.push(el("p", { class: "note", role: "status" }, say("app.queued")));
  } else if (offer.answerable) {
    parts.push(el("p", {}, say("app.time_left", { minutes: Math.max(1, Math.round(offer.seconds_left / 60)) })));
    parts.push(el("button", { class: "yes", onclick: () => answer(offer.offer_id, "accept") }, say("page.accept")));
    parts.push(el("button", { onclick: () => answer(offer.offer_id, "decline") }, say("page.decline")));
  } else if (offer.status === "accepted" || offer.status === "declined") {
    parts.push(el("p", { class: "note", role: "status" }, say("offer." + offer.status)));
  }
  if (offer.field_status) {
    const said = stored(SAID)[offer.offer_id];
    const recent = heard[offer.offer_id] && Date.now() - heard[offer.offer_id][1] < 20000 ? heard[offer.offer_id][0] : null;
    const now = said || recent || offer.field_status;
    parts.push(el("p", { class: "field", role: "status" }, say("app.field.now", { status: say(`app.field.${now}`) }),
      said ? ` · ${say("app.queued")}` : ""));
    parts.push(el("div", { class: "field-buttons" }, ...FIELD.map((status) => el("button", {
      class: status === now ? "yes" : "", "data-field": status, "aria-pressed": String(status === now),
      onclick: () => tell(offer.offer_id, status),
    }, say(`app.say.${status}`)))));
    if (now !== "left_area") parts.push(el("p", { class: "hint" }, say("app.sharing")));
  }
  if (offer.meeting_point) {
    const [lon, lat] = offer.meeting_point;
    parts.push(el("p", {}, say("app.meeting_point") + ": ",
      el("a", { href: `geo:${lat},${lon}` }, `${lat.toFixed(5)}, ${lon.toFixed(5)}`)));
  }
  return el("section", { class: "offer", "data-offer": offer.offer_id }, ...parts);
}

async function showOffers() {
  let response;
  try {
    response = await api("GET", "/api/v1/me/offers");
  } catch {
    signal.textContent = say("app.offline");
    signal.hidden = false;
    return;
  }
  if (response.status === 401) return showSignIn();
  if (!response.ok) return main.replaceChildren(el("p", { role: "alert" }, await detail(response)));
  const offers = await response.json();
  share(offers.some((offer) => offer.field_status === "en_route" || offer.field_status === "on_scene"));
  const out = el("button", {
    onclick: async () => { await api("POST", "/api/v1/auth/sign-out"); showSignIn(); },
  }, say("app.sign_out"));
  const me = el("details", { class: "me" }, el("summary", {}, say("app.me")));
  me.addEventListener("toggle", () => { if (me.open && me.children.length === 1) showMe(me); });
  main.replaceChildren(
    ...(offers.length ? offers.map(offerCard) : [el("p", {}, say("app.no_offers"))]), me, out,
  );
}

// Read only when opened: the call-outs come first on one bar of signal.
async function showMe(box) {
  const [profile, consents] = await Promise.all(
    ["/api/v1/me", "/api/v1/me/consents"].map(async (path) => {
      const response = await api("GET", path);
      return response.ok ? response.json() : null;
    }));
  if (!profile || !consents) return;
  const check = (id, checked, label) => {
    const input = el("input", { id, type: "checkbox", class: "check" });
    input.checked = checked;
    return [input, el("label", { for: id, class: "check" }, label)];
  };
  const hour = (id, value) => el("input", { id, type: "time", value: value ? value.slice(0, 5) : "" });
  const [offDuty, offDutyLabel] = check("off-duty", profile.availability === "off_duty", say("app.off_duty"));
  const from = hour("quiet-from", profile.quiet_hours_start);
  const until = hour("quiet-to", profile.quiet_hours_end);
  const note = el("p", { class: "note", role: "status" });
  const form = el("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      const response = await api("PUT", "/api/v1/me/availability", {
        availability: offDuty.checked ? "off_duty" : "available",
        quiet_hours_start: from.value || null, quiet_hours_end: until.value || null,
      });
      note.textContent = response.ok ? say("app.saved") : await detail(response);
    },
  }, offDuty, offDutyLabel, el("label", { for: "quiet-from" }, say("app.quiet_from")), from,
     el("label", { for: "quiet-to" }, say("app.quiet_to")), until,
     el("p", { class: "hint" }, say("app.quiet_note")),
     el("button", { class: "yes", type: "submit" }, say("app.save")), note);
  const sharing = consents.find((item) => item.kind === "location_sharing");
  const [share, shareLabel] = check("share-location", Boolean(sharing && sharing.given), say("app.location"));
  share.addEventListener("change", async () => {
    const response = await api("PUT", "/api/v1/me/consents/location_sharing", { given: share.checked });
    note.textContent = response.ok ? say("app.saved") : await detail(response);
  });
  const certificates = profile.certificates.length
    ? el("ul", { class: "certificates" }, ...profile.certificates.map((c) => el("li", { class: c.standing },
        el("strong", {}, c.name), " — ",
        say(`app.cert.${c.standing}`, { date: c.standing === "not_yet" ? c.issued_on : c.expires_on, days: c.days_left }))))
    : el("p", {}, say("app.no_certificates"));
  box.append(form, el("p", {}, share, shareLabel), el("h2", {}, say("app.certificates")), certificates);
}

window.addEventListener("online", () => flush());
window.addEventListener("offline", () => { signal.textContent = say("app.offline"); signal.hidden = false; });
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app" });
const waiting = () => queued().length || Object.keys(stored(SAID)).length;
setInterval(() => { if (navigator.onLine && waiting()) flush(); }, 15000);
setInterval(() => { if (navigator.onLine && watching !== null) sendFixes().catch(() => {}); }, 30000);
if (waiting() && navigator.onLine) flush(); else showOffers();
