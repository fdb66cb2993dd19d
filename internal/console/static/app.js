// DingChat console: vanilla JS, no build step. Every element is built with
// createElement and textContent; nothing from the server is ever parsed as
// HTML, and only http(s) and dingtalk: links become links.
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);

// h builds an element: h('a', {href: x, class: 'y', onclick: f}, 'text', child…)
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'href') { const u = safeURL(v); if (u) el.setAttribute('href', u); }
    else if (k === 'src') { const u = safeSrc(v); if (u) el.setAttribute('src', u); }
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// safeURL keeps a link only when its scheme is http, https or dingtalk.
function safeURL(u) {
  try {
    const url = new URL(String(u), location.href);
    if (['http:', 'https:', 'dingtalk:'].includes(url.protocol)) return url.href;
  } catch (e) { /* not a URL */ }
  return '';
}
function safeSrc(u) {
  if (String(u).startsWith('blob:')) return String(u);
  try {
    const url = new URL(String(u), location.href);
    if (['http:', 'https:'].includes(url.protocol)) return url.href;
  } catch (e) { /* not a URL */ }
  return '';
}

const store = window.sessionStorage;
const state = { kind: store.getItem('kind') || '', token: store.getItem('token') || '', me: null,
  corps: [], corp: store.getItem('corp') || '', live: null };

function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2500);
}

class APIError extends Error {
  constructor(status, body) { super((body && body.message) || ('HTTP ' + status)); this.status = status; this.body = body; }
}

// api calls DingChat's own API with the token as a header: never a cookie,
// so another site cannot make the browser call it with the user's rights.
async function api(method, path, body, raw) {
  const opts = { method, headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store', credentials: 'omit' };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, opts);
  if (raw) { if (!r.ok) throw new APIError(r.status); return r; }
  let j = null;
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new APIError(r.status, j);
  return j;
}

// one formatter for every date: toLocaleString builds one per call, which
// is the bulk of drawing a hundred rows
// (made on first use: a page without dates does not pay for one)
let dateTime, timeOnly;
const fmtTime = (ms) => ms ? (dateTime = dateTime || new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' })).format(ms) : '';
const fmtClock = (t) => (timeOnly = timeOnly || new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' })).format(t);

// ---------- markdown (DingTalk's subset), built as DOM ----------

function inline(text, parent) {
  // links, images, bold, italic, code; anything else is text
  const re = /(!?)\[([^\]]*)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
    if (m[3] !== undefined) {
      if (m[1]) {
        const src = m[3].startsWith('@') ? '' : safeSrc(m[3]);
        if (src) parent.append(h('img', { src, alt: m[2], loading: 'lazy', referrerpolicy: 'no-referrer' }));
        else if (m[3].startsWith('@')) parent.append(mediaImage(m[3], m[2]));
        else parent.append(document.createTextNode(m[2]));
      } else {
        const href = safeURL(m[3]);
        parent.append(href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, m[2]) : h('span', { class: 'inert-link' }, m[2]));
      }
    } else if (m[4] !== undefined) parent.append(h('strong', {}, m[4]));
    else if (m[5] !== undefined) parent.append(h('em', {}, m[5]));
    else if (m[6] !== undefined) parent.append(h('code', {}, m[6]));
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  return parent;
}

function markdown(src) {
  const root = h('div', { class: 'md' });
  let list = null;
  for (const line of String(src).split(/\r?\n/)) {
    let m;
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) { list = null; root.append(inline(m[2], h('h' + Math.min(6, m[1].length + 2)))); }
    else if ((m = /^\s*[-*+]\s+(.*)$/.exec(line)) || (m = /^\s*\d+\.\s+(.*)$/.exec(line))) {
      if (!list) { list = h(/^\s*\d/.test(line) ? 'ol' : 'ul'); root.append(list); }
      list.append(inline(m[1], h('li')));
    } else if ((m = /^>\s?(.*)$/.exec(line))) { list = null; root.append(inline(m[1], h('blockquote'))); }
    else if (line.trim() === '') { list = null; }
    else { list = null; root.append(inline(line, h('div'))); }
  }
  return root;
}

// ---------- media through the API (the token rides in a header) ----------

function mediaPath(id) {
  return state.kind === 'admin'
    ? '/_dingchat/admin/corps/' + encodeURIComponent(state.viewCorp || state.corp) + '/media/' + encodeURIComponent(id)
    : '/_dingchat/member/media/' + encodeURIComponent(id);
}

function mediaImage(id, alt) {
  const img = h('img', { alt: alt || 'image', loading: 'lazy' });
  api('GET', mediaPath(id), undefined, true).then((r) => r.blob()).then((b) => { img.src = URL.createObjectURL(b); })
    .catch(() => { img.replaceWith(h('span', { class: 'muted' }, '[image ' + id + ' unavailable]')); });
  return img;
}

function mediaEntry(label, id) {
  return h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try {
      const r = await api('GET', mediaPath(id), undefined, true);
      const url = URL.createObjectURL(await r.blob());
      const a = h('a', { download: id }); a.href = url; a.click();
    } catch (e) { toast('Cannot fetch ' + id); }
  } }, label);
}

// ---------- one message as DingTalk members see it ----------

function card(title, bodyEl, buttons, vertical) {
  const c = h('div', { class: 'cardmsg' }, title ? h('div', { class: 'title' }, title) : null, h('div', { class: 'body' }, bodyEl));
  if (buttons && buttons.length) c.append(h('div', { class: 'btns' + (vertical ? ' vertical' : '') }, buttons));
  return c;
}
function linkButton(title, url) {
  const href = safeURL(url);
  return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, title) : h('span', { class: 'inert-link' }, title);
}

function renderBody(m) {
  const o = m.msg || {};
  const x = o[m.msgtype] || {};
  switch (m.msgtype) {
    case 'text': return h('div', { class: 'bubble' }, String(x.content || ''));
    // the title is what notifications show; the bubble shows the text
    case 'markdown': return h('div', { class: 'bubble', title: x.title || '' }, markdown(x.text || ''));
    case 'image': return h('div', { class: 'bubble' }, mediaImage(x.media_id));
    case 'file': return h('div', { class: 'bubble' }, '📎 File ', mediaEntry(x.media_id || 'file', x.media_id));
    case 'voice': return h('div', { class: 'bubble' }, '🎤 Voice ' + (x.duration || '?') + ' s ', mediaEntry('play', x.media_id));
    case 'link': {
      const url = x.messageUrl || x.message_url, pic = x.picUrl || x.pic_url || '';
      const img = pic.startsWith('@') ? mediaImage(pic) : (safeSrc(pic) ? h('img', { src: pic, alt: '', referrerpolicy: 'no-referrer' }) : null);
      return card(null, h('div', { class: 'linkmsg' }, img, h('div', {}, linkButton(x.title || '', url), h('div', { class: 'muted' }, x.text || ''))));
    }
    case 'oa': {
      const head = x.head || {}, b = x.body || {};
      const bg = /^[0-9A-Fa-f]{8}$/.test(head.bgcolor || '') ? '#' + head.bgcolor.slice(2) : '#1677ff';
      const headEl = h('div', { class: 'head' }, head.text || '');
      headEl.style.background = bg;
      const form = h('div', { class: 'form' });
      for (const f of (Array.isArray(b.form) ? b.form : [])) form.append(h('span', { class: 'muted' }, String(f.key || '')), h('span', {}, String(f.value || '')));
      const img = b.image ? (String(b.image).startsWith('@') ? mediaImage(b.image) : (safeSrc(b.image) ? h('img', { src: b.image, alt: '' }) : null)) : null;
      const c = h('div', { class: 'cardmsg oa' }, headEl, h('div', { class: 'body' },
        b.title ? h('div', { class: 'title' }, b.title) : null, form,
        b.rich ? h('div', {}, h('strong', {}, String(b.rich.num || '')), ' ', String(b.rich.unit || '')) : null,
        b.content ? h('div', {}, b.content) : null, img,
        b.file_count ? h('div', { class: 'muted' }, b.file_count + ' attachment(s)') : null,
        b.author ? h('div', { class: 'muted' }, b.author) : null),
        h('div', { class: 'btns' }, linkButton('Open', x.message_url)));
      return c;
    }
    case 'action_card': {
      let buttons = [];
      if (x.single_title) buttons = [linkButton(x.single_title, x.single_url)];
      else {
        let list = x.btn_json_list;
        if (typeof list === 'string') { try { list = JSON.parse(list); } catch (e) { list = []; } }
        buttons = (Array.isArray(list) ? list : []).map((b) => linkButton(String(b.title || ''), b.action_url));
      }
      return card(x.title, markdown(x.markdown || ''), buttons, String(x.btn_orientation) === '0' ? false : String(x.btn_orientation) === '1' ? false : true);
    }
    default: return h('div', { class: 'bubble' }, '[' + m.msgtype + ']');
  }
}

function senderName(m, names) {
  if (m.senderType === 'user') return (names && names[m.sender]) || m.sender;
  if (m.senderType === 'robot') return '🤖 ' + ((names && names['robot:' + m.sender]) || m.sender);
  if (m.senderType === 'webhook') return '🤖 ' + m.sender;
  return 'App ' + m.sender;
}

function renderMessage(m, mine, names) {
  const body = m.recalled ? h('div', { class: 'bubble recalled' }, 'This message was recalled') : renderBody(m);
  return h('div', { class: 'msg' + (mine ? ' mine' : ''), 'data-seq': m.seq, 'data-id': m.messageId, tabindex: 0 },
    h('div', { class: 'meta' }, senderName(m, names) + ' · #' + m.seq + ' · ' + fmtTime(m.createdAt)), body);
}

// ---------- live sockets ----------

// Live keeps a socket open, resuming after a drop from the last sequence
// numbers seen, so nothing is missed and nothing shown twice.
class Live {
  constructor(path, start, onFrame) {
    this.path = path; this.start = start; this.onFrame = onFrame; this.resume = { groups: {} }; this.closed = false;
    this.open();
  }
  open() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + this.path);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify(Object.assign({ token: state.token }, this.start, this.resume)));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'hello') {
        if (this.resume.events === undefined) this.resume.events = f.events;
        for (const g of f.groups) if (this.resume.groups[g.chatid] === undefined) this.resume.groups[g.chatid] = g.lastSeq;
      } else if (f.type === 'message') this.resume.groups[f.chatid] = f.seq;
      else if (f.type === 'event') this.resume.events = f.seq;
      this.onFrame(f);
    };
    ws.onclose = (e) => {
      if (this.closed) return;
      if (e.code === 4001) { toast('Live updates refused: ' + e.reason); return; }
      setTimeout(() => { if (!this.closed) this.open(); }, 1000);
    };
  }
  close() { this.closed = true; try { this.ws.close(); } catch (e) { /* gone */ } }
}

function debounce(f, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); }; }

// ---------- shell ----------

function setNav(items, current) {
  const nav = $('#nav');
  nav.replaceChildren(...items.map(([hash, label]) => h('a', { href: '#' + hash, 'aria-current': hash.split('/')[1] === current ? 'page' : false }, label)));
}

function view(...kids) { const v = $('#view'); v.replaceChildren(...kids); return v; }

function signOut() {
  store.clear();
  if (state.live) state.live.close();
  location.hash = '';
  location.reload();
}

async function signIn(kind, token) {
  state.kind = kind; state.token = token.trim();
  try {
    if (kind === 'admin') await api('GET', '/_dingchat/admin/org');
    else state.me = await api('GET', '/_dingchat/member/me');
  } catch (e) {
    state.kind = ''; state.token = '';
    $('#signin-error').textContent = e.status === 401 ? 'That token is not valid.' : 'Sign-in failed: ' + e.message;
    return;
  }
  store.setItem('kind', kind); store.setItem('token', state.token);
  $('#signin-error').textContent = '';
  start();
}

function start() {
  $('#signin').hidden = true; $('#view').hidden = false; $('#signout').hidden = false;
  route();
}

window.addEventListener('hashchange', () => { if (state.kind) route(); });

async function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (state.kind === 'admin') await adminRoute(parts);
    else await memberRoute(parts);
  } catch (e) {
    if (e.status === 401) { signOut(); return; }
    view(h('p', { class: 'error', role: 'alert' }, 'Error: ' + e.message));
  }
}


// GroupList shows a group listing one page at a time (the server pages it
// by cursor): the first page at once, the next on "Show more", a search
// asked of the server. Only the rows of the pages loaded are in the DOM.
class GroupList {
  constructor(path, row) {
    this.path = path; this.row = row; this.groups = []; this.next = ''; this.q = ''; this.gen = 0;
    this.ul = h('ul', { id: 'group-list' });
    this.more = h('button', { type: 'button', class: 'secondary more', onclick: () => this.load(true) }, 'Show more');
    this.el = h('div', {}, this.ul, this.more);
    this.more.hidden = true;
  }
  // load reads the first page (or, with more, the next one) and draws it
  async load(more) {
    const gen = ++this.gen;
    const q = new URLSearchParams({ limit: String(GroupList.page) });
    if (this.q) q.set('q', this.q);
    if (more) q.set('cursor', this.next);
    const page = await api('GET', this.path + '?' + q);
    if (gen !== this.gen) return; // a newer search or reload won
    this.groups = more ? this.groups.concat(page.groups) : page.groups;
    this.next = page.nextCursor || '';
    if (more) this.ul.append(...page.groups.map(this.row)); else this.ul.replaceChildren(...this.groups.map(this.row));
    this.drawn();
  }
  draw() { this.ul.replaceChildren(...this.groups.map(this.row)); this.drawn(); }
  // drawn marks the group open (aria-current) on whatever rows are shown
  drawn() {
    this.more.hidden = !this.next;
    for (const a of this.ul.querySelectorAll('a[data-chatid]')) a.setAttribute('aria-current', a.dataset.chatid === this.current ? 'true' : 'false');
  }
  find(chatid) { return this.groups.find((g) => g.chatid === chatid); }
  search(q) { this.q = q.trim(); return this.load(false); }
}
GroupList.page = 50; // two screens of rows: a page is drawn in one short task

// ---------- operator ----------

async function loadOrg() {
  const o = await api('GET', '/_dingchat/admin/org');
  state.corps = o.corps; state.orgReady = null;
  if (!state.corps.some((c) => c.corpId === state.corp) && state.corps.length) state.corp = state.corps[0].corpId;
  store.setItem('corp', state.corp);
  return o;
}

function corpPicker(onchange) {
  const sel = h('select', { 'aria-label': 'Corp', onchange: (e) => { state.corp = e.target.value; store.setItem('corp', state.corp); onchange(); } });
  const fill = () => sel.replaceChildren(...state.corps.map((c) => { const o = h('option', { value: c.corpId }, c.name + ' (' + c.corpId + ')'); o.selected = c.corpId === state.corp; return o; }));
  if (state.corps.length) fill();
  else { sel.append(h('option', { value: state.corp }, state.corp)); if (state.orgReady) state.orgReady.then(fill, () => {}); }
  return sel;
}

async function adminRoute(parts) {
  const section = parts[0] || 'groups';
  $('#who').textContent = 'Operator';
  setNav([['/org', 'Organisation'], ['/groups', 'Groups'], ['/events', 'Events'], ['/requests', 'Requests'], ['/streams', 'Stream']], section);
  // a known corp need not wait for the organisation: it loads beside the page
  // (the organisation page reads it itself)
  if (!state.corps.length && section !== 'org') { state.orgReady = state.orgReady || loadOrg(); if (!state.corp) await state.orgReady; }
  if (section === 'org') return orgPage();
  if (section === 'events') return eventsPage();
  if (section === 'requests') return requestsPage();
  if (section === 'streams') return streamsPage();
  return groupsPage(parts[1], parts[2]);
}

function kv(rows) {
  return h('dl', { class: 'kv' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function copyBlock(text) {
  return h('div', {}, h('pre', {}, text), h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try { await navigator.clipboard.writeText(text); toast('Copied'); } catch (e) { toast('Select the text and copy it'); }
  } }, 'Copy'));
}

async function orgPage() {
  const o = await loadOrg();
  const base = location.origin;
  const out = [h('h1', {}, 'Organisation')];
  for (const c of o.corps) {
    const apps = h('table', {}, h('thead', {}, h('tr', {}, ['App', 'appKey', 'agentId', 'appSecret', 'Limits', ''].map((t) => h('th', {}, t)))));
    const tb = h('tbody');
    for (const a of c.apps) {
      const secret = h('code', {}, a.secretHint);
      const snippets = h('div', { hidden: true });
      const reveal = h('button', { type: 'button', class: 'secondary', onclick: async () => {
        const s = await api('GET', '/_dingchat/admin/apps/' + encodeURIComponent(a.appKey) + '/secret');
        secret.textContent = s.appSecret;
        snippets.replaceChildren(
          h('h3', {}, 'curl'),
          copyBlock("curl '" + base + '/gettoken?appkey=' + a.appKey + '&appsecret=' + s.appSecret + "'\n" +
            "curl -X POST '" + base + "/chat/send?access_token=TOKEN' -H 'Content-Type: application/json' \\\n  -d '{\"chatid\":\"CHATID\",\"msg\":{\"msgtype\":\"text\",\"text\":{\"content\":\"你好 hello\"}}}'"),
          h('h3', {}, 'Go (github.com/alibabacloud-go/dingtalk)'),
          copyBlock('cfg := &openapi.Config{Protocol: tea.String("' + location.protocol.replace(':', '') + '"), Endpoint: tea.String("' + location.host + '")}\n' +
            'client, _ := oauth2_1_0.NewClient(cfg)\n' +
            'res, err := client.GetAccessToken(&oauth2_1_0.GetAccessTokenRequest{AppKey: tea.String("' + a.appKey + '"), AppSecret: tea.String("' + s.appSecret + '")})'));
        snippets.hidden = false;
      } }, 'Reveal secret & snippets');
      reveal.classList.add('reveal');
      const qps = h('input', { type: 'number', min: 0, value: a.limits.qps || 0, 'aria-label': 'QPS limit for ' + a.appKey, size: 4 });
      const qpm = h('input', { type: 'number', min: 0, value: a.limits.perMinute || 0, 'aria-label': 'Per-minute limit for ' + a.appKey, size: 4 });
      const setLimits = h('button', { type: 'button', class: 'secondary', onclick: async () => {
        await api('PUT', '/_dingchat/admin/apps/' + encodeURIComponent(a.appKey) + '/limits', { qps: +qps.value, perMinute: +qpm.value, ipAllowList: a.limits.ipAllowList });
        toast('Limits of ' + a.appKey + ' saved');
      } }, 'Set');
      tb.append(h('tr', {}, h('td', {}, a.name, a.suiteKey ? h('div', { class: 'muted' }, 'suite ' + a.suiteKey) : null),
        h('td', {}, h('code', {}, a.appKey)), h('td', {}, String(a.agentId)), h('td', {}, secret, ' ', reveal),
        h('td', {}, h('div', { class: 'row' }, 'qps', qps, '/min', qpm, setLimits)), h('td', {})));
      tb.append(h('tr', {}, h('td', { colspan: 6 }, snippets)));
    }
    apps.append(tb);
    const users = h('table', {}, h('thead', {}, h('tr', {}, ['userid', 'Name', 'unionId', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, c.users.map((u) => h('tr', {}, h('td', {}, h('code', {}, u.userid)), h('td', {}, u.name), h('td', {}, h('code', {}, u.unionId)),
        h('td', {}, memberActions(c.corpId, u.userid))))));
    const robots = c.robots.length ? h('ul', {}, c.robots.map((r) => h('li', {}, r.name + ' ', h('code', {}, r.robotCode)))) : h('p', { class: 'muted' }, 'No robots.');
    const suites = c.suites.length ? h('ul', {}, c.suites.map((s) => h('li', {}, h('code', {}, s)))) : h('p', { class: 'muted' }, 'No suites authorised.');
    out.push(h('section', { class: 'card' }, h('h2', {}, c.name + ' ', h('code', {}, c.corpId)),
      h('h3', {}, 'Apps'), apps, h('h3', {}, 'Users (' + c.users.length + ')'), users, h('h3', {}, 'Robots'), robots, h('h3', {}, 'Suites'), suites));
  }
  view(...out);
}

function memberActions(corpId, userid) {
  const out = h('span', { class: 'row' });
  out.append(h('button', { type: 'button', class: 'secondary', onclick: async () => {
    const t = await api('POST', '/_dingchat/admin/member-tokens', { corpId, userid });
    out.replaceChildren(h('code', {}, t.token), h('button', { type: 'button', class: 'secondary', onclick: () => {
      window.open(location.pathname + '#member=' + encodeURIComponent(t.token), '_blank', 'noopener');
    } }, 'Open member view'));
  } }, 'Issue member token'));
  return out;
}

async function groupsPage(corpArg, chatid) {
  if (corpArg && corpArg !== state.corp) { state.corp = corpArg; store.setItem('corp', corpArg); }
  state.viewCorp = state.corp;
  const corp = state.corp;
  // the group opens beside the list: neither waits for the other
  const detail = h('div', { id: 'group-detail' }, h('p', { class: 'muted' }, chatid ? 'Loading…' : 'Choose a group.'));
  const opening = chatid ? groupDetail(detail, chatid) : null;
  const filter = h('input', { type: 'search', placeholder: 'Filter groups', 'aria-label': 'Filter groups' });
  // moving between groups keeps the list: the live socket keeps it current
  const cached = state.groupList && state.groupList.corp === corp ? state.groupList : null;
  const list = cached || new GroupList('/_dingchat/admin/corps/' + encodeURIComponent(corp) + '/groups', (g) => h('li', {}, h('a', {
    href: '#/groups/' + encodeURIComponent(corp) + '/' + encodeURIComponent(g.chatid), 'data-chatid': g.chatid },
  h('span', {}, g.name, g.status === 2 ? h('span', { class: 'muted' }, ' (disbanded)') : null), h('span', { class: 'muted seq' }, String(g.lastSeq)))));
  list.corp = corp;
  state.groupList = list;
  filter.value = list.q;
  filter.addEventListener('input', debounce(() => list.search(filter.value).catch(() => {}), 200));
  view(h('div', { class: 'row' }, h('h1', {}, 'Groups'), corpPicker(() => { location.hash = '#/groups/' + encodeURIComponent(state.corp); })),
    h('div', { class: 'split' }, h('div', { class: 'list' }, h('div', { class: 'filter' }, filter), list.el), detail));
  list.current = chatid;
  const shown = cached ? Promise.resolve(list.draw()) : list.load(false);
  const refresh = debounce(() => list.load(false).catch(() => {}), 150);
  let timeline = null;
  if (state.live) state.live.close();
  const pending = [];
  state.live = new Live('/_dingchat/admin/live', { corpId: corp, chats: chatid ? [chatid] : [] }, (f) => {
    // the list was read before the socket's hello: what changed in between
    // comes with no event, so the hello reads the list again
    if (f.type === 'hello') refresh();
    else if (f.type === 'event') { refresh(); if (timeline) timeline.event(f.event); }
    else if (f.type === 'message') {
      const g = list.find(f.chatid);
      if (g) {
        g.lastSeq = f.seq;
        const seq = list.ul.querySelector('a[data-chatid="' + CSS.escape(f.chatid) + '"] .seq');
        if (seq) seq.textContent = String(f.seq);
      }
      if (f.chatid === chatid) { if (timeline) timeline.add(f.message); else pending.push(f.message); }
    }
  });
  await shown;
  if (opening) {
    timeline = await opening;
    for (const m of pending) timeline.add(m);
  }
}

async function groupDetail(el, chatid) {
  const base = '/_dingchat/admin/corps/' + encodeURIComponent(state.corp) + '/groups/' + encodeURIComponent(chatid);
  const page = api('GET', base + '/messages?limit=50');
  const [g, dir] = await Promise.all([api('GET', base), api('GET', base + '/members')]);
  const names = {};
  for (const m of dir.members) names[m.id] = m.name || m.id;
  for (const r of dir.robots) names['robot:' + r.robotCode] = r.name;
  const tl = new Timeline(names, null);
  const s = g.settings;
  const members = h('table', {}, h('thead', {}, h('tr', {}, ['Member', 'Role', 'Kind', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, dir.members.map((m) => h('tr', {}, h('td', {}, (m.name || '') + ' ', h('code', {}, m.id), m.nick ? ' (' + m.nick + ')' : ''),
      h('td', {}, m.role), h('td', {}, m.kind), h('td', {}, m.kind === 'emp' ? memberActions(g.corpId, m.id) : null)))));
  const disband = g.status === 2 ? h('span', { class: 'muted' }, 'Disbanded') : h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!confirm('Disband ' + g.name + '?')) return;
    await api('POST', '/_dingchat/admin/corps/' + encodeURIComponent(g.corpId) + '/groups/' + encodeURIComponent(chatid) + '/disband', {});
    toast('Disbanded'); route();
  } }, 'Disband group');
  el.replaceChildren(h('section', { class: 'card' }, h('h2', { id: 'group-title' }, g.name),
    kv([['chatid', h('code', {}, g.chatid)], ['openConversationId', h('code', {}, g.openConversationId)],
      ['owner', h('code', {}, (names[g.owner] ? names[g.owner] + ' ' : '') + g.owner)],
      ['tag', g.conversationTag === 2 ? '企业群 internal (2)' : '普通群 ordinary (' + g.conversationTag + ')'],
      ['settings', 'showHistoryType ' + s.ShowHistoryType + ' · searchable ' + s.Searchable + ' · validationType ' + s.ValidationType +
        ' · mentionAllAuthority ' + s.MentionAllAuthority + ' · managementType ' + s.ManagementType + ' · chatBannedType ' + s.ChatBannedType],
      ['created', fmtTime(g.createdAt) + ' by ' + g.creatorApp]]),
    h('details', {}, h('summary', {}, 'Members (' + dir.members.length + '), robots (' + dir.robots.length + ')'), members,
      dir.robots.length ? h('p', {}, 'Robots: ' + dir.robots.map((r) => r.name + ' (' + r.robotCode + ')').join(', ')) : null),
    h('div', { class: 'row' }, disband)), tl.el);
  tl.show(await page);
  return tl;
}

// Timeline shows a group's messages, oldest at the top, and takes live ones.
class Timeline {
  constructor(names, me) {
    this.names = names; this.me = me; this.seen = new Map();
    this.el = h('div', { class: 'timeline', id: 'timeline', role: 'log', 'aria-live': 'polite', tabindex: 0 });
  }
  // show draws a page in one insertion, so the browser lays it out once
  show(page) {
    const frag = document.createDocumentFragment();
    for (const m of page.messages.slice().reverse()) {
      if (this.seen.has(m.seq)) continue;
      const node = renderMessage(m, this.me && m.senderType === 'user' && m.sender === this.me, this.names);
      this.seen.set(m.seq, node);
      frag.append(node);
    }
    // live frames that came first are newer: the page goes before them
    const first = [...this.el.children].find((c) => +c.dataset.seq > page.messages.reduce((a, m) => Math.max(a, m.seq), 0)) || null;
    this.el.insertBefore(frag, first);
    this.el.scrollTop = this.el.scrollHeight;
  }
  add(m) {
    if (this.seen.has(m.seq)) return;
    const node = renderMessage(m, this.me && m.senderType === 'user' && m.sender === this.me, this.names);
    this.seen.set(m.seq, node);
    // keep order by seq even when a page and a live frame cross; the
    // common case is a new last message
    let after = null;
    const last = this.el.lastElementChild;
    if (last && +last.dataset.seq > m.seq) for (const c of this.el.children) if (+c.dataset.seq > m.seq) { after = c; break; }
    const atBottom = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 40;
    this.el.insertBefore(node, after);
    if (atBottom) this.el.scrollTop = this.el.scrollHeight;
  }
  event(ev) {
    if (ev.type === 'chat_recall_message' && ev.data && ev.data.messageId) {
      const node = this.el.querySelector('[data-id="' + CSS.escape(ev.data.messageId) + '"]');
      if (node) node.lastChild.replaceWith(h('div', { class: 'bubble recalled' }, 'This message was recalled'));
    }
  }
}

async function eventsPage() {
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load older');
  view(h('div', { class: 'row' }, h('h1', {}, 'Event log'), corpPicker(() => route())),
    h('p', { class: 'muted' }, 'Every change as it was recorded, with each delivery attempt to HTTP callbacks. Stream deliveries appear here once the Stream gateway runs.'),
    h('table', {}, h('thead', {}, h('tr', {}, ['#', 'Time', 'Type', 'Group', 'Operator', 'Deliveries'].map((t) => h('th', {}, t)))), tbody), more);
  // the newest page first; "Load older" walks back, live events go on top
  let newest = 0, older = 0;
  const row = (e) => h('tr', { 'data-seq': e.seq }, h('td', {}, String(e.seq)), h('td', {}, fmtTime(e.createdAt)),
    h('td', {}, e.type, e.pushed ? '' : h('span', { class: 'muted' }, ' (DingChat)')), h('td', {}, h('code', {}, e.chatId || '')), h('td', {}, e.operator || ''),
    h('td', {}, (e.deliveries || []).length ? h('details', {}, h('summary', {}, e.deliveries.length + ' attempt(s)'),
      h('ul', {}, e.deliveries.map((d) => h('li', { class: d.outcome === 'ok' ? 'ok' : 'fail' },
        d.consumer + ' #' + d.attempt + ' ' + d.outcome + ' HTTP ' + d.httpStatus + ' ' + d.latencyMs + ' ms' + (d.error ? ' — ' + d.error : ''))))) : h('span', { class: 'muted' }, e.pushed ? 'none yet' : '—')));
  const base = '/_dingchat/admin/corps/' + encodeURIComponent(state.corp) + '/events';
  const loadOlder = async () => {
    const page = await api('GET', base + '?order=desc&limit=50' + (older ? '&before=' + older : ''));
    tbody.append(...page.events.map(row));
    if (!newest && page.events.length) newest = page.events[0].seq;
    older = page.next;
    more.hidden = !older;
  };
  const loadNewer = async () => {
    const page = await api('GET', base + '?after=' + newest + '&limit=100');
    for (const e of page.events) tbody.prepend(row(e));
    newest = page.next;
  };
  more.addEventListener('click', loadOlder);
  await loadOlder();
  if (state.live) state.live.close();
  const newer = debounce(() => loadNewer().catch(() => {}), 100);
  state.live = new Live('/_dingchat/admin/live', { corpId: state.corp, chats: [] }, (f) => {
    // the hello tells of events since the page was read
    if ((f.type === 'event' && f.seq > newest) || (f.type === 'hello' && f.events > newest)) newer();
  });
}

// bodies reads and draws a call's bodies when first opened: 100 calls'
// JSON would be the bulk of the page otherwise
function bodies(c) {
  const d = h('details', {}, h('summary', {}, 'bodies'));
  d.addEventListener('toggle', async () => {
    if (!d.open || d.childElementCount > 1) return;
    const wait = h('p', { class: 'muted' }, 'Loading…');
    d.append(wait);
    let full;
    try { full = await api('GET', '/_dingchat/admin/requests/' + c.seq); } catch (e) { wait.textContent = 'No longer in the log.'; return; }
    wait.replaceWith(c.query ? h('pre', {}, '?' + c.query) : '', h('pre', {}, JSON.stringify(full.requestBody === undefined ? null : full.requestBody, null, 2)),
      h('pre', {}, JSON.stringify(full.responseBody === undefined ? null : full.responseBody, null, 2)));
  });
  return d;
}

async function requestsPage() {
  const app = h('input', { placeholder: 'appKey', 'aria-label': 'Filter by app' });
  const path = h('input', { placeholder: '/chat/send or /v1.0/*', 'aria-label': 'Filter by path' });
  const err = h('input', { placeholder: 'errcode', 'aria-label': 'Filter by error code', size: 8 });
  const out = h('div');
  const load = async () => {
    const q = new URLSearchParams();
    if (app.value) q.set('app', app.value);
    if (path.value) q.set('path', path.value);
    if (err.value) q.set('errcode', err.value);
    q.set('limit', '100'); q.set('order', 'desc'); q.set('bodies', 'false');
    let page;
    try { page = await api('GET', '/_dingchat/admin/requests?' + q); } catch (e) {
      if (e.status === 404) { out.replaceChildren(h('div', { class: 'placeholder' }, 'The request log is not served by this server (it has no /_dingchat/admin/requests endpoint).')); return; }
      throw e;
    }
    const calls = page.requests || [];
    out.replaceChildren(h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'App', 'Call', 'Answer', 'ms', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, calls.map((c) => h('tr', {}, h('td', {}, fmtClock(new Date(c.time))), h('td', {}, h('code', {}, c.appKey || '')),
        h('td', {}, c.method + ' ' + c.path), h('td', { class: c.status >= 400 || (c.errcode && c.errcode !== '0') ? 'fail' : 'ok' }, String(c.status) + (c.errcode ? ' errcode ' + c.errcode : '') + (c.reason ? ' — ' + c.reason : '')),
        h('td', {}, String(Math.round(c.latencyMs * 10) / 10)),
        h('td', {}, bodies(c)))))));
  };
  const go = h('button', { type: 'button', onclick: load }, 'Filter');
  view(h('h1', {}, 'Request log'), h('p', { class: 'muted' }, 'Every API call with its answer; secrets and tokens are masked by the server.'),
    h('div', { class: 'row' }, app, path, err, go), out);
  await load();
}

async function streamsPage() {
  const r = await api('GET', '/_dingchat/admin/streams');
  if (!r.served) {
    view(h('h1', {}, 'Stream connections'), h('div', { class: 'placeholder' }, 'Stream mode is not served by this server yet: no Stream connections to list.'));
    return;
  }
  view(h('h1', {}, 'Stream connections'), h('p', { class: 'muted' }, 'Open on this node; the event log lists their deliveries.'),
    r.connections.length ? h('table', {}, h('thead', {}, h('tr', {}, ['clientId', 'Client', 'Subscriptions', 'Queued'].map((t) => h('th', {}, t)))),
      h('tbody', {}, r.connections.map((c) => h('tr', {}, h('td', {}, h('code', {}, String(c.clientId || ''))), h('td', {}, String(c.ua || '')),
        h('td', {}, (Array.isArray(c.subscriptions) ? c.subscriptions : []).join(', ')), h('td', {}, String(c.queued || 0))))))
      : h('p', { class: 'muted' }, 'No Stream connection is open.'));
}

// ---------- member ----------

async function memberRoute(parts) {
  const me = state.me ? Promise.resolve(state.me) : api('GET', '/_dingchat/member/me');
  setNav([['/chats', 'Chats']], 'chats');
  const chatid = parts[0] === 'chats' ? parts[1] : undefined;
  // the shell (the list of groups) stays while the member moves between
  // groups: only the pane changes
  let shell = state.memberShell;
  if (!shell || !document.contains(shell.list.el)) {
    const list = new GroupList('/_dingchat/member/groups', (g) => h('li', {}, h('a', { href: '#/chats/' + encodeURIComponent(g.chatid), 'data-chatid': g.chatid },
      h('span', {}, g.name, g.status === 2 ? h('span', { class: 'muted' }, ' (disbanded)') : null),
      g.unread > 0 ? h('span', { class: 'badge', 'aria-label': g.unread + ' unread' }, String(g.unread)) : null)));
    shell = state.memberShell = { list, pane: h('div', { id: 'chat' }), loaded: list.load(false) };
    view(h('div', { class: 'split' }, h('nav', { class: 'list', 'aria-label': 'Groups' }, list.el), shell.pane));
  }
  const { list, pane } = shell;
  list.current = chatid;
  pane.replaceChildren(h('p', { class: 'muted' }, chatid ? 'Loading…' : 'Choose a group.'));
  state.chatOpened = null;
  const opening = chatid ? memberChat(pane, chatid, () => list.find(chatid), me) : null;
  state.me = await me;
  $('#who').textContent = state.me.name + ' (' + state.me.userid + ')';
  const redraw = (g) => {
    const a = list.ul.querySelector('a[data-chatid="' + CSS.escape(g.chatid) + '"]');
    if (a) a.parentNode.replaceWith(list.row(g));
    list.drawn();
  };
  const refresh = debounce(() => list.load(false).catch(() => {}), 150);
  let chat = null;
  // one socket for all of the member's groups, kept across navigations
  if (!state.live || state.live.path !== '/_dingchat/member/live') {
    if (state.live) state.live.close();
    state.live = new Live('/_dingchat/member/live', {}, (f) => state.onFrame(f));
  }
  state.onFrame = (f) => {
    if (f.type === 'hello') { // reload the list only if it changed before the socket opened
      shell.loaded.then(() => { if (listStale(list.groups, f.groups)) refresh(); }, () => {});
      return;
    }
    const g = list.find(f.chatid);
    if (f.type === 'message') {
      // a group not on the pages loaded is new: the first page shows it
      if (!g) { refresh(); return; }
      g.lastSeq = f.seq;
      if (chat && chat.chatid === f.chatid && !document.hidden) { chat.tl.add(f.message); chat.markRead(f.seq); }
      else if (!(f.message.senderType === 'user' && f.message.sender === state.me.userid)) g.unread = Math.max(0, g.lastSeq - g.readSeq);
      redraw(g);
    } else if (f.type === 'read' && f.userid === state.me.userid && g) {
      g.readSeq = Math.max(g.readSeq, f.seq); g.unread = Math.max(0, g.lastSeq - g.readSeq); redraw(g);
    } else if (f.type === 'event') {
      refresh();
      if (chat && f.chatid === chat.chatid) chat.tl.event(f.event);
    }
  };
  await shell.loaded;
  list.drawn();
  if (opening) {
    chat = await opening;
    if (!chat) return;
    const g = list.find(chatid), title = $('#chat-title');
    if (g && title) title.textContent = g.name;
  }
}

// listStale tells whether the groups listed differ from the heads of a
// hello frame (both newest first): a head moved, a read mark moved, or a
// group came or went before the list's first row.
function listStale(groups, heads) {
  const at = new Map(heads.map((x) => [x.chatid, x]));
  if (groups.some((g) => { const x = at.get(g.chatid); return !x || x.lastSeq !== g.lastSeq || x.readSeq !== g.readSeq; })) return true;
  if (groups.length === 0) return heads.length > 0;
  return heads.length > 0 && heads[0].chatid !== groups[0].chatid;
}

// memberChat opens a group; group() is its row of the list, once loaded.
async function memberChat(pane, chatid, group, me) {
  const base = '/_dingchat/member/groups/' + encodeURIComponent(chatid);
  const opened = state.chatOpened = {}; // the pane stays: a group opened since wins it
  const page = api('GET', base + '/messages?limit=50');
  const dir = await api('GET', base + '/members');
  state.me = await me;
  if (state.chatOpened !== opened) return null;
  const g = group();
  const names = {};
  for (const m of dir.members) names[m.id] = m.name || m.id;
  for (const r of dir.robots) names['robot:' + r.robotCode] = r.name;
  const tl = new Timeline(names, state.me.userid);
  const text = h('textarea', { id: 'compose', 'aria-label': 'Message', placeholder: 'Message (Ctrl+Enter sends)' });
  const kind = h('select', { 'aria-label': 'Message type' }, h('option', { value: 'text' }, 'Text'), h('option', { value: 'markdown' }, 'Markdown'));
  const title = h('input', { placeholder: 'Markdown title', 'aria-label': 'Markdown title', hidden: true });
  kind.addEventListener('change', () => { title.hidden = kind.value !== 'markdown'; });
  const file = h('input', { type: 'file', accept: 'image/*', 'aria-label': 'Send an image' });
  let readSeq = g ? g.readSeq : 0;
  const chat = { chatid, tl, markRead: async (seq) => {
    if (seq <= readSeq) return;
    readSeq = seq;
    try { await api('POST', base + '/read', { seq }); } catch (e) { /* the next read catches up */ }
  } };
  const send = async () => {
    const content = text.value;
    if (!content.trim()) return;
    const body = kind.value === 'markdown' ? { msgtype: 'markdown', markdown: { title: title.value || content.slice(0, 20), text: content } } : { msgtype: 'text', text: { content } };
    try { await api('POST', base + '/messages', body); text.value = ''; } catch (e) { toast('Not sent: ' + e.message); }
  };
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } });
  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    const fd = new FormData(); fd.append('media', file.files[0]);
    try {
      const up = await api('POST', '/_dingchat/member/media', fd);
      await api('POST', base + '/messages', { msgtype: 'image', image: { media_id: up.mediaId } });
    } catch (e) { toast('Image not sent: ' + e.message); }
    file.value = '';
  });
  const mention = (label, tag) => h('button', { type: 'button', class: 'secondary', onclick: () => {
    text.setRangeText('@' + tag + ' ', text.selectionStart, text.selectionEnd, 'end'); text.focus();
  } }, '@' + label);
  const mentions = h('details', {}, h('summary', {}, 'Mention'), h('div', { class: 'mentions' },
    dir.members.filter((m) => m.kind === 'emp' && m.id !== state.me.userid).map((m) => mention(m.name || m.id, m.name || m.id)),
    dir.robots.map((r) => mention('🤖 ' + r.name, r.name))));
  pane.replaceChildren(h('h2', { id: 'chat-title' }, g ? g.name : chatid), tl.el,
    h('div', { class: 'composer' }, h('div', { class: 'row' }, kind, title), text, h('button', { type: 'button', id: 'send', onclick: send }, 'Send'), file), mentions);
  tl.show(await page);
  const last = Math.max(0, ...tl.seen.keys());
  chat.markRead(last);
  return chat;
}

// ---------- boot ----------

document.addEventListener('DOMContentLoaded', () => {
  $('#admin-form').addEventListener('submit', (e) => { e.preventDefault(); signIn('admin', $('#admin-token').value); });
  $('#member-form').addEventListener('submit', (e) => { e.preventDefault(); signIn('member', $('#member-token').value); });
  $('#signout').addEventListener('click', signOut);
  // an operator's "open member view" hands the token over in the fragment,
  // which never reaches a server; it is moved to this tab's storage at once
  const m = /^#member=(.+)$/.exec(location.hash);
  if (m) {
    const t = decodeURIComponent(m[1]);
    history.replaceState(null, '', location.pathname);
    signIn('member', t);
    return;
  }
  if (state.kind && state.token) start();
});
