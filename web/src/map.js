// The manager map page (客群地图): logs in with the API, draws the caller's partners, visits,
// events and leads from /api/v1/map/features (clustered by the server), the overdue partners and
// per-territory figures from /api/v1/map/coverage, and a partner popup with its status, last
// visits and photo thumbnails. Plain script on top of Leaflet (window.L); no inline HTML from
// data: every text goes in through textContent, every data-driven colour through the CSSOM.
'use strict';

(function () {
  const L = window.L;

  // ---- Vocabulary -------------------------------------------------------------------------

  const CATEGORIES = [
    { id: 'supermarket', label: '超市', color: '#e4572e' },
    { id: 'community', label: '社区', color: '#2e86ab' },
    { id: 'school', label: '学校', color: '#f2a541' },
    { id: 'garment_wholesale', label: '服装批发', color: '#8e5ccf' },
    { id: 'seafood_wholesale', label: '海鲜批发', color: '#17a398' },
    { id: 'bookkeeping_agency', label: '代账机构', color: '#c2185b' },
    { id: 'other', label: '其他', color: '#7d8597' },
  ];
  const CATEGORY = Object.fromEntries(CATEGORIES.map((c) => [c.id, c]));
  const LAYERS = [
    { id: 'partners', label: '合作方', tag: '合', on: true, z: 400 },
    { id: 'visits', label: '走访', tag: '访', on: false, z: 100 },
    { id: 'events', label: '活动', tag: '活', on: true, z: 300 },
    { id: 'leads', label: '线索', tag: '线', on: false, z: 200 },
  ];
  const LAYER = Object.fromEntries(LAYERS.map((l) => [l.id, l]));
  const PARTNER_STATUS = {
    prospect: '潜在', contacted: '已接触', negotiating: '洽谈中', signed: '已签约',
    active: '合作中', paused: '已暂停', terminated: '已终止',
  };
  const EVENT_STATUS = { planned: '计划中', cancelled: '已取消', completed: '已完成' };
  const LEAD_STATUS = { new: '新线索', contacted: '已联系', qualified: '已确认', converted: '已转化', lost: '已流失' };
  const VISIT_STATUS = { verified: '已核验', unverified: '未核验' };
  const PURPOSE = {
    relationship: '关系维护', alliance_negotiation: '联盟洽谈', event_planning: '活动策划',
    market_sweep: '市场扫街', service: '上门服务', follow_up: '跟进回访', other: '其他',
  };
  const OUTCOME = { positive: '积极', neutral: '一般', negative: '消极', no_contact: '未见到人' };
  const REASON = {
    outside_geofence: '不在围栏内', poor_accuracy: '定位精度差', future_timestamp: '时间超前',
    stale_location: '定位过旧', implausible_speed: '移动速度异常', mock_location: '模拟定位',
    photo_far_from_visit: '照片位置不符', photo_time_mismatch: '照片时间不符',
  };
  const ROLE = {
    account_manager: '客户经理', supervisor: '督导员', sub_branch_manager: '支行负责人',
    branch_manager: '分行管理者', admin: '系统管理员',
  };
  const AUDIENCE = { households: '户', students: '名学生', stalls: '个摊位', clients: '位客户', members: '名会员', people: '人' };
  const TERRITORY_COLORS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#65a30d'];

  const config = {
    tileUrl: document.body.dataset.tileUrl || '',
    datum: document.body.dataset.tileDatum === 'gcj02' ? 'gcj02' : 'wgs84',
  };

  // ---- Small helpers -------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function swatch(color, extra) {
    const s = el('span', { class: 'swatch' + (extra ? ' ' + extra : ''), 'aria-hidden': 'true' });
    s.style.background = color;
    return s;
  }

  const number = new Intl.NumberFormat('zh-CN');
  const fmt = (n) => (n === null || n === undefined ? '—' : number.format(n));
  const percent = (x) => (x === null || x === undefined ? '—' : Math.round(x * 100) + '%');
  const dateTime = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });
  const dateOnly = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
  const clock = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
  const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');
  const day = (iso) => (iso ? dateOnly.format(new Date(iso)) : '—');
  const categoryColor = (id) => (CATEGORY[id] || CATEGORY.other).color;
  const categoryLabel = (id) => (CATEGORY[id] || { label: id || '—' }).label;

  // WGS-84 → GCJ-02 for the territories (the API converts everything else when asked `coord=gcj02`).
  function toGcj02(lat, lon) {
    if (!(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) return [lat, lon];
    const a = 6378245.0;
    const ee = 0.006693421622965943;
    const x = lon - 105.0;
    const y = lat - 35.0;
    const common = ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
    dLat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
    dLat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
    let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
    dLon += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
    dLon += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
    const radLat = (lat / 180.0) * Math.PI;
    let magic = Math.sin(radLat);
    magic = 1 - ee * magic * magic;
    const sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI);
    dLon = (dLon * 180.0) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lon + dLon];
  }

  // ---- Session and API -------------------------------------------------------------------------

  const SESSION_KEY = 'outreach.map.session';
  let session = null;
  try {
    session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch (_) {
    session = null;
  }

  function saveSession(next) {
    session = next;
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || '请求失败（HTTP ' + status + '）');
      this.status = status;
      this.problem = problem;
    }
  }

  /// Every call that carries positions asks for the tiles' datum. Territories come as stored
  /// (WGS-84) from /org-units and are converted here, in `toGcj02`.
  function apiUrl(path) {
    const url = new URL(path, window.location.origin);
    const plain = url.pathname.startsWith('/api/v1/auth/') || url.pathname.startsWith('/api/v1/org-units');
    if (config.datum !== 'wgs84' && !plain) url.searchParams.set('coord', config.datum);
    return url.pathname + url.search;
  }

  let refreshing = null;

  /// One refresh at a time; every request that met a 401 meanwhile waits for it.
  function refreshTokens() {
    if (!session || !session.refresh_token) return Promise.resolve(false);
    if (!refreshing) {
      const spent = session.refresh_token;
      refreshing = fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refresh_token: spent }),
      })
        .then((res) => (res.ok ? res.json() : null))
        .then((body) => {
          if (!body) return false;
          saveSession({ access_token: body.access_token, refresh_token: body.refresh_token, user: body.user });
          return true;
        })
        .catch(() => false)
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  async function api(path, options) {
    const { method = 'GET', body, signal, blob = false } = options || {};
    const send = () => {
      const token = session && session.access_token;
      const headers = { accept: blob ? '*/*' : 'application/json' };
      if (token) headers.authorization = 'Bearer ' + token;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const request = fetch(apiUrl(path), { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
      return { token, request };
    };
    let attempt = send();
    let res = await attempt.request;
    if (res.status === 401 && session) {
      // Another request may have refreshed already; otherwise refresh once.
      if (session.access_token !== attempt.token || (await refreshTokens())) {
        attempt = send();
        res = await attempt.request;
      }
      if (res.status === 401) {
        expire();
        throw new ApiError(401, { detail: '登录已过期，请重新登录。' });
      }
    }
    if (!res.ok) {
      let problem = null;
      try {
        problem = await res.json();
      } catch (_) {
        problem = null;
      }
      throw new ApiError(res.status, problem);
    }
    return blob ? res.blob() : res.json();
  }

  const isAbort = (e) => e && e.name === 'AbortError';

  // ---- State ---------------------------------------------------------------------------------------

  const state = {
    layers: new Set(LAYERS.filter((l) => l.on).map((l) => l.id)),
    categories: new Set(CATEGORIES.map((c) => c.id)),
    days: 90,
    verified: true,
    unverified: true,
    territories: true,
    heat: false,
  };

  let map = null;
  const renderers = {};
  let featureLayer = null;
  let territoryLayer = null;
  let heatLayer = null;
  let orgUnits = [];
  const territoryColor = new Map();
  const territoryShapes = new Map();
  const userNames = new Map();
  let featureTimer = null;
  let featureAbort = null;
  let heatAbort = null;
  let loads = 0;
  let popupSeq = 0;
  let popupUrls = [];
  let viewFitted = false;

  function setStatus(text, isError) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  function reportError(e, what) {
    if (isAbort(e)) return;
    if (e && e.status === 401) return; // back at the login form already
    setStatus(what + '失败：' + (e && e.message ? e.message : '网络错误'), true);
    console.warn(what, e);
  }

  // ---- Login ---------------------------------------------------------------------------------------

  function showLogin(message) {
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('login-password').value = '';
    document.body.dataset.state = 'login';
    setTimeout(() => ($('login-phone').value ? $('login-password') : $('login-phone')).focus(), 0);
  }

  function expire() {
    saveSession(null);
    stopLoading();
    showLogin('登录已过期，请重新登录。');
  }

  async function login(event) {
    event.preventDefault();
    const phone = $('login-phone').value.trim();
    const password = $('login-password').value;
    if (!phone || !password) {
      $('login-error').textContent = '请输入手机号和密码。';
      return;
    }
    const button = $('login-submit');
    button.disabled = true;
    button.textContent = '正在登录…';
    $('login-error').textContent = '';
    try {
      const res = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ phone, password }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const code = body && body.code;
        $('login-error').textContent =
          code === 'invalid_credentials' ? '手机号或密码不正确。'
            : code === 'rate_limited' ? '尝试次数过多，请稍后再试。'
              : res.status === 422 ? '请输入正确的手机号和密码。'
                : (body && body.detail) || '登录失败，请稍后再试。';
        return;
      }
      saveSession({ access_token: body.access_token, refresh_token: body.refresh_token, user: body.user });
      startApp();
    } catch (_) {
      $('login-error').textContent = '无法连接服务器，请检查网络。';
    } finally {
      button.disabled = false;
      button.textContent = '登录';
    }
  }

  async function logout() {
    const spent = session && session.refresh_token;
    saveSession(null);
    stopLoading();
    if (featureLayer) featureLayer.clearLayers();
    if (heatLayer) heatLayer.clearLayers();
    if (map) map.closePopup();
    userNames.clear();
    viewFitted = false; // the next login may see another subtree
    showLogin('');
    if (spent) {
      fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: spent }),
      }).catch(() => {});
    }
  }

  function stopLoading() {
    clearTimeout(featureTimer);
    if (featureAbort) featureAbort.abort();
    if (heatAbort) heatAbort.abort();
  }

  // ---- Panels ---------------------------------------------------------------------------------------

  function buildPanels() {
    const layerList = $('layer-list');
    for (const layer of LAYERS) {
      const box = el('input', { type: 'checkbox', id: 'layer-' + layer.id, checked: state.layers.has(layer.id), dataset: { layer: layer.id } });
      box.addEventListener('change', () => {
        if (box.checked) state.layers.add(layer.id);
        else state.layers.delete(layer.id);
        syncChecks();
        scheduleFeatures(0);
      });
      layerList.append(
        el('li', { id: 'layer-row-' + layer.id },
          el('label', null, box, el('span', { class: 'sym sym-' + layer.id, 'aria-hidden': 'true' }),
            el('span', { class: 'name', text: layer.label }),
            el('span', { class: 'count', id: 'count-' + layer.id, dataset: { testid: 'count-' + layer.id }, text: '—' }))),
      );
    }
    const categoryList = $('category-list');
    for (const c of CATEGORIES) {
      const box = el('input', { type: 'checkbox', id: 'category-' + c.id, checked: true, dataset: { category: c.id } });
      box.addEventListener('change', () => {
        if (box.checked) state.categories.add(c.id);
        else state.categories.delete(c.id);
        syncChecks();
        scheduleFeatures(0);
      });
      categoryList.append(el('li', { id: 'category-row-' + c.id }, el('label', null, box, swatch(c.color), el('span', { class: 'name', text: c.label }))));
    }
    $('categories-all').addEventListener('click', () => setCategories(true));
    $('categories-none').addEventListener('click', () => setCategories(false));
    $('window').addEventListener('change', (e) => {
      state.days = Number(e.target.value);
      scheduleFeatures(0);
    });
    $('visit-verified').addEventListener('change', (e) => {
      state.verified = e.target.checked;
      scheduleFeatures(0);
    });
    $('visit-unverified').addEventListener('change', (e) => {
      state.unverified = e.target.checked;
      scheduleFeatures(0);
    });
    $('show-territories').addEventListener('change', (e) => {
      state.territories = e.target.checked;
      if (!map) return;
      if (state.territories) territoryLayer.addTo(map);
      else territoryLayer.remove();
    });
    $('show-heat').addEventListener('change', (e) => {
      state.heat = e.target.checked;
      loadHeat();
    });
    syncChecks();
  }

  function setCategories(on) {
    for (const c of CATEGORIES) {
      $('category-' + c.id).checked = on;
      if (on) state.categories.add(c.id);
      else state.categories.delete(c.id);
    }
    syncChecks();
    scheduleFeatures(0);
  }

  function syncChecks() {
    for (const l of LAYERS) $('layer-row-' + l.id).classList.toggle('off', !state.layers.has(l.id));
    for (const c of CATEGORIES) $('category-row-' + c.id).classList.toggle('off', !state.categories.has(c.id));
  }

  function showCounts(totals) {
    let sum = 0;
    for (const l of LAYERS) {
      const on = state.layers.has(l.id) && totals !== null;
      const n = on ? totals[l.id] || 0 : null;
      if (n !== null) sum += n;
      $('count-' + l.id).textContent = on ? fmt(n) : '—';
    }
    $('visible-count').textContent = totals === null ? '—' : fmt(sum);
  }

  // ---- Map ---------------------------------------------------------------------------------------------

  function buildMap() {
    map = L.map('map', {
      minZoom: 3,
      maxZoom: 19,
      zoomSnap: 1,
      attributionControl: !!config.tileUrl,
      worldCopyJump: false,
    });
    window.__outreachMap = map; // for the browser test and for debugging in the console
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, {
        subdomains: config.datum === 'gcj02' ? '1234' : 'abc',
        maxNativeZoom: 18,
        maxZoom: 19,
        attribution: config.datum === 'gcj02' ? '底图 GCJ-02' : '底图',
      }).addTo(map);
      map.attributionControl.setPrefix('Leaflet');
      map.getContainer().classList.add('with-tiles');
    }
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    map.createPane('territories').style.zIndex = 350;
    map.createPane('heat').style.zIndex = 360;
    // One pane per layer, partners on top: visits stack under the partner they were made at.
    for (const l of LAYERS) {
      map.createPane('om-' + l.id).style.zIndex = String(400 + l.z / 10);
      renderers[l.id] = L.svg({ pane: 'om-' + l.id, padding: 0.3 });
    }
    territoryLayer = L.layerGroup();
    if (state.territories) territoryLayer.addTo(map);
    heatLayer = L.layerGroup().addTo(map);
    featureLayer = L.layerGroup().addTo(map);
    map.on('moveend', () => {
      scheduleFeatures(250);
      if (state.heat) loadHeat();
    });
    map.on('popupclose', () => {
      for (const url of popupUrls) URL.revokeObjectURL(url);
      popupUrls = [];
    });
  }

  function viewBox() {
    const b = map.getBounds().pad(0.1);
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    return [
      clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85),
    ].map((v) => v.toFixed(6)).join(',');
  }

  const zoom = () => Math.max(0, Math.min(22, Math.round(map.getZoom())));

  /// The filters of the panel, as query parameters of /map/features.
  function filterParams(layers) {
    const params = new URLSearchParams();
    params.set('layers', layers.join(','));
    if (state.categories.size < CATEGORIES.length) params.set('category', [...state.categories].join(','));
    const from = new Date(Date.now() - state.days * 86400000);
    from.setSeconds(0, 0);
    params.set('from', from.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    if (state.verified !== state.unverified) params.set('visit_status', state.verified ? 'verified' : 'unverified');
    return params;
  }

  function activeLayers() {
    return LAYERS.map((l) => l.id).filter((id) => state.layers.has(id) && (id !== 'visits' || state.verified || state.unverified));
  }

  function scheduleFeatures(delay) {
    clearTimeout(featureTimer);
    featureTimer = setTimeout(loadFeatures, delay);
  }

  async function loadFeatures() {
    if (!map || !session) return;
    if (featureAbort) featureAbort.abort();
    // What this load shows, published when it lands: a test (or a curious user) can tell a
    // load that began before a filter changed from the one that applies it.
    const shown = [...state.categories].sort().join(',');
    const layers = activeLayers();
    if (layers.length === 0 || state.categories.size === 0) {
      featureAbort = null;
      featureLayer.clearLayers();
      const zero = Object.fromEntries(layers.map((l) => [l, 0]));
      showCounts(zero);
      $('truncated').hidden = true;
      finishLoad(shown);
      return;
    }
    map.getContainer().classList.toggle('single-layer', layers.length === 1);
    const params = filterParams(layers);
    params.set('bbox', viewBox());
    params.set('zoom', String(zoom()));
    params.set('cluster', 'true');
    const abort = new AbortController();
    featureAbort = abort;
    document.body.dataset.state = 'loading';
    setStatus('加载中…');
    try {
      const body = await api('/api/v1/map/features?' + params, { signal: abort.signal });
      if (featureAbort !== abort) return;
      renderFeatures(body.features);
      showCounts(body.totals);
      $('truncated').hidden = !body.truncated;
      setStatus('已更新 ' + clock.format(new Date()));
      finishLoad(shown);
    } catch (e) {
      if (featureAbort === abort) {
        document.body.dataset.state = 'error';
        reportError(e, '加载地图数据');
      }
    } finally {
      if (featureAbort === abort) featureAbort = null;
    }
  }

  function finishLoad(categories) {
    loads += 1;
    document.body.dataset.loads = String(loads);
    document.body.dataset.categories = categories;
    document.body.dataset.state = 'idle';
  }

  function renderFeatures(features) {
    featureLayer.clearLayers();
    // Each layer draws in its own pane (see buildMap), so the order here does not matter.
    for (const f of features) {
      const [lon, lat] = f.geometry.coordinates;
      featureLayer.addLayer(f.properties.cluster ? clusterMarker(lat, lon, f.properties) : pointMarker(lat, lon, f.properties));
    }
  }

  function pie(categories) {
    const entries = CATEGORIES.map((c) => [c, categories[c.id] || 0]).filter(([, n]) => n > 0);
    const total = entries.reduce((s, [, n]) => s + n, 0);
    if (total === 0) return '#7d8597';
    if (entries.length === 1) return entries[0][0].color;
    let at = 0;
    const stops = entries.map(([c, n]) => {
      const start = at;
      at += (n / total) * 360;
      return c.color + ' ' + start.toFixed(1) + 'deg ' + at.toFixed(1) + 'deg';
    });
    return 'conic-gradient(' + stops.join(', ') + ')';
  }

  function clusterMarker(lat, lon, p) {
    const n = p.point_count || 0;
    const size = Math.round(30 + 9 * Math.log10(Math.max(n, 2)));
    const ring = el('div', { class: 'ring' });
    ring.style.background = pie(p.categories || {});
    const root = el('div', { class: 'om-cluster om-cluster-' + p.layer },
      ring, el('div', { class: 'core', text: n >= 10000 ? Math.round(n / 1000) + 'k' : String(n) }),
      // Partners are the map's main layer; the others carry a tag saying which layer they are.
      p.layer === 'partners' ? null : el('span', { class: 'tag', text: LAYER[p.layer].tag }));
    const parts = CATEGORIES.filter((c) => (p.categories || {})[c.id]).map((c) => c.label + ' ' + p.categories[c.id]);
    // With partners shown too, other clusters sit a little up and right of their spot, so
    // that a partner and the visits made at it both stay readable.
    const shift = p.layer !== 'partners' && state.layers.has('partners') ? 12 : 0;
    const marker = L.marker([lat, lon], {
      pane: 'om-' + p.layer,
      icon: L.divIcon({ html: root, className: 'om-divicon', iconSize: [size, size], iconAnchor: [size / 2 - shift, size / 2 + shift] }),
      title: LAYER[p.layer].label + ' ' + n + ' 个：' + parts.join('，'),
      riseOnHover: true,
    });
    marker.on('click', () => clusterClick(lat, lon, p));
    return marker;
  }

  /// Zoom to where the cluster comes apart; when it never does (its points share one spot) or
  /// not within the map's zoom range, list its points instead.
  function clusterClick(lat, lon, p) {
    const splits = p.split_zoom !== undefined && p.split_zoom !== null;
    const target = splits ? Math.max(p.split_zoom, zoom() + 1) : zoom() + 2;
    if (target <= map.getMaxZoom() && (splits || zoom() < 16)) {
      map.flyTo([lat, lon], target, { duration: 0.6 });
    } else {
      openStack(lat, lon, p);
    }
  }

  function pointMarker(lat, lon, p) {
    const color = categoryColor(p.category);
    let marker;
    if (p.layer === 'partners') {
      const inactive = p.status === 'terminated' || p.status === 'paused';
      marker = L.circleMarker([lat, lon], {
        renderer: renderers.partners, pane: 'om-partners', radius: 7, color: '#ffffff', weight: 2, fillColor: color,
        fillOpacity: inactive ? 0.4 : 1, className: 'om-point om-point-partners',
      });
    } else if (p.layer === 'visits') {
      const verified = p.status === 'verified';
      marker = L.circleMarker([lat, lon], {
        renderer: renderers.visits, pane: 'om-visits', radius: 4.5, color: verified ? '#ffffff' : '#d62828', weight: verified ? 1 : 2,
        fillColor: color, fillOpacity: 0.85, className: 'om-point om-point-visits',
      });
    } else {
      const size = p.layer === 'events' ? 14 : 11;
      const icon = el('div', { class: 'om-icon om-icon-' + p.layer + (p.status === 'cancelled' || p.status === 'lost' ? ' dim' : '') });
      icon.style.width = size + 'px';
      icon.style.height = size + 'px';
      icon.style.background = color;
      marker = L.marker([lat, lon], {
        pane: 'om-' + p.layer,
        icon: L.divIcon({ html: icon, className: 'om-divicon om-point om-point-' + p.layer, iconSize: [size, size] }),
      });
    }
    marker.bindTooltip(el('span', { text: pointLabel(p) }), { direction: 'top', offset: [0, -6] });
    marker.on('click', () => openPoint(L.latLng(lat, lon), p));
    return marker;
  }

  function statusLabel(p) {
    const vocab = { partners: PARTNER_STATUS, visits: VISIT_STATUS, events: EVENT_STATUS, leads: LEAD_STATUS }[p.layer] || {};
    return vocab[p.status] || p.status || '';
  }

  function pointName(p) {
    if (p.name) return p.name;
    if (p.layer === 'visits' && !p.partner_id) return '扫街走访';
    return categoryLabel(p.category) + LAYER[p.layer].label;
  }

  function pointLabel(p) {
    return pointName(p) + ' · ' + statusLabel(p);
  }

  // ---- Popups -------------------------------------------------------------------------------------

  function loading(text) {
    return el('div', { class: 'pp-empty' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
  }

  function showPopup(latlng, content) {
    popupSeq += 1;
    const popup = L.popup({ className: 'om-popup', maxWidth: 360, minWidth: 280, autoPanPadding: [40, 40] })
      .setLatLng(latlng)
      .setContent(content)
      .openOn(map);
    return { popup, seq: popupSeq };
  }

  function current(handle) {
    return handle.seq === popupSeq && map.hasLayer(handle.popup);
  }

  function openPoint(latlng, p) {
    if (p.layer === 'partners') openPartner(p.id, latlng);
    else if (p.layer === 'visits') openVisit(p, latlng);
    else openRecord(p, latlng);
  }

  async function userName(id) {
    if (!id) return '—';
    if (!userNames.has(id)) {
      userNames.set(id, api('/api/v1/users/' + id).then((u) => u.name).catch(() => '—'));
    }
    return userNames.get(id);
  }

  function chips(...items) {
    return el('div', { class: 'pp-chips' }, items);
  }

  function categoryChip(category) {
    return el('span', { class: 'chip' }, swatch(categoryColor(category)), categoryLabel(category));
  }

  function rows(pairs) {
    return el('dl', { class: 'pp-rows' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', { text: k }), el('dd', null, v)]));
  }

  async function openPartner(id, latlng) {
    const handle = showPopup(latlng || map.getCenter(), loading('正在加载合作方…'));
    try {
      const [partner, visits] = await Promise.all([
        api('/api/v1/partners/' + id),
        api('/api/v1/visits?partner_id=' + encodeURIComponent(id) + '&limit=200'),
      ]);
      const owner = await userName(partner.owner_id);
      if (!current(handle)) return;
      if (!latlng) handle.popup.setLatLng([partner.location.lat, partner.location.lon]);
      // The list comes in creation order; the popup wants the latest visits.
      const recent = visits.items.slice().sort((a, b) => (a.visited_at < b.visited_at ? 1 : -1)).slice(0, 5);
      const thumbs = el('div', { class: 'pp-thumbs', dataset: { testid: 'popup-photos' } });
      const audience = partner.audience_size ? fmt(partner.audience_size) + ' ' + (AUDIENCE[partner.audience_unit] || '') : null;
      const content = el('div', { class: 'pp', dataset: { testid: 'partner-popup', partnerId: partner.id } },
        el('h3', { class: 'pp-title', text: partner.name }),
        chips(
          el('span', { class: 'chip status-' + partner.status, dataset: { testid: 'popup-status' }, text: PARTNER_STATUS[partner.status] || partner.status }),
          categoryChip(partner.category),
        ),
        rows([
          ['地址', partner.address],
          ['负责人', owner],
          ['联系人', partner.contact_name ? partner.contact_name + (partner.contact_phone ? ' ' + partner.contact_phone : '') : null],
          ['覆盖', audience],
          ['走访周期', partner.visit_cadence_days + ' 天'],
        ]),
        el('div', { class: 'pp-section', text: '最近走访' + (visits.items.length ? '（共 ' + visits.items.length + (visits.next_cursor ? '+' : '') + ' 次）' : '') }),
        recent.length
          ? el('ul', { class: 'pp-visits' }, recent.map(visitRow))
          : el('div', { class: 'pp-empty', text: '尚无走访记录' }),
        thumbs,
      );
      handle.popup.setContent(content);
      await fillThumbs(handle, thumbs, recent);
    } catch (e) {
      if (current(handle)) handle.popup.setContent(errorBox(e, '合作方'));
    }
  }

  function visitRow(v) {
    const reasons = (v.verification && v.verification.reasons) || [];
    return el('li', null,
      el('span', { class: 'when', text: when(v.visited_at) }),
      el('span', { class: 'what', text: (PURPOSE[v.purpose] || v.purpose) + (v.outcome ? ' · ' + (OUTCOME[v.outcome] || v.outcome) : '') }),
      v.verified
        ? el('span', { class: 'ok', title: '已核验', text: '✓ 核验' })
        : el('span', { class: 'no', title: reasons.map((r) => REASON[r] || r).join('、'), text: '✗ 未核验' }));
  }

  async function fillThumbs(handle, container, visits) {
    const lists = await Promise.all(visits.map((v) => api('/api/v1/visits/' + v.id + '/photos').catch(() => ({ items: [] }))));
    const photos = lists.flatMap((l) => l.items).slice(0, 8);
    if (!current(handle) || photos.length === 0) return;
    container.before(el('div', { class: 'pp-section', text: '走访照片' }));
    for (const photo of photos) {
      const img = el('img', { alt: '走访照片', width: 72, height: 72, title: '点击查看大图' });
      img.addEventListener('click', () => openLightbox(photo.url));
      container.append(img);
    }
    handle.popup.update();
    await Promise.all(photos.map(async (photo, i) => {
      try {
        const blob = await api(photo.thumbnail_url, { blob: true });
        if (!current(handle)) return;
        const url = URL.createObjectURL(blob);
        popupUrls.push(url);
        container.children[i].src = url;
      } catch (e) {
        container.children[i].alt = '照片无法加载';
      }
    }));
  }

  async function openLightbox(path) {
    const box = $('lightbox');
    const img = $('lightbox-img');
    try {
      const blob = await api(path, { blob: true });
      if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob);
      box.hidden = false;
    } catch (e) {
      reportError(e, '加载照片');
    }
  }

  function closeLightbox() {
    const img = $('lightbox-img');
    $('lightbox').hidden = true;
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.removeAttribute('src');
  }

  function partnerButton(partnerId) {
    if (!partnerId) return null;
    return el('div', { class: 'pp-actions' },
      el('button', { type: 'button', class: 'link', text: '查看合作方 ›', onclick: () => openPartner(partnerId, null) }));
  }

  async function openVisit(p, latlng) {
    const handle = showPopup(latlng, loading('正在加载走访…'));
    try {
      const v = await api('/api/v1/visits/' + p.id);
      const visitor = await userName(v.user_id);
      if (!current(handle)) return;
      const reasons = (v.verification && v.verification.reasons) || [];
      const thumbs = el('div', { class: 'pp-thumbs' });
      handle.popup.setContent(el('div', { class: 'pp', dataset: { testid: 'visit-popup' } },
        el('h3', { class: 'pp-title', text: pointName(p) }),
        chips(
          el('span', { class: 'chip ' + (v.verified ? 'status-signed' : 'status-terminated'), dataset: { testid: 'popup-status' }, text: v.verified ? '已核验' : '未核验' }),
          categoryChip(p.category),
        ),
        rows([
          ['时间', when(v.visited_at)],
          ['走访人', visitor],
          ['目的', PURPOSE[v.purpose] || v.purpose],
          ['结果', v.outcome ? OUTCOME[v.outcome] || v.outcome : null],
          ['距离', v.distance_m !== null && v.distance_m !== undefined ? Math.round(v.distance_m) + ' 米' : null],
          ['未核验原因', reasons.length ? reasons.map((r) => REASON[r] || r).join('、') : null],
          ['记录', v.notes || null],
          ['下一步', v.next_step || null],
        ]),
        thumbs,
        partnerButton(v.partner_id)));
      await fillThumbs(handle, thumbs, [v]);
    } catch (e) {
      if (current(handle)) handle.popup.setContent(errorBox(e, '走访'));
    }
  }

  function openRecord(p, latlng) {
    const isEvent = p.layer === 'events';
    showPopup(latlng, el('div', { class: 'pp', dataset: { testid: isEvent ? 'event-popup' : 'lead-popup' } },
      el('h3', { class: 'pp-title', text: isEvent ? p.name || '活动' : categoryLabel(p.category) + '线索' }),
      chips(el('span', { class: 'chip', dataset: { testid: 'popup-status' }, text: statusLabel(p) }), categoryChip(p.category)),
      rows([[isEvent ? '开始时间' : '创建时间', when(p.at)], ['来源合作方', !isEvent && p.name ? p.name : null]]),
      partnerButton(p.partner_id)));
  }

  /// Points that sit on one spot (a cluster that never splits): list them.
  async function openStack(lat, lon, p) {
    const handle = showPopup([lat, lon], loading('正在加载…'));
    const [w, s, e, n] = p.extent || [lon, lat, lon, lat];
    const pad = 0.00001;
    const params = filterParams([p.layer]);
    params.set('bbox', [w - pad, s - pad, e + pad, n + pad].map((v) => v.toFixed(6)).join(','));
    params.set('zoom', String(zoom()));
    params.set('cluster', 'false');
    params.set('limit', '100');
    try {
      const body = await api('/api/v1/map/features?' + params);
      if (!current(handle)) return;
      // The box is rounded outwards: keep only the cluster's own points.
      const inside = ([x, y]) => x >= w - 1e-9 && x <= e + 1e-9 && y >= s - 1e-9 && y <= n + 1e-9;
      const items = body.features.filter((f) => inside(f.geometry.coordinates)).map((f) => f.properties)
        .sort((a, b) => (a.at < b.at ? 1 : -1));
      handle.popup.setContent(el('div', { class: 'pp' },
        el('h3', { class: 'pp-title', text: '此处共 ' + fmt(p.point_count) + ' 条' + LAYER[p.layer].label + '记录' }),
        el('ul', { class: 'pp-list' }, items.map((q) => el('li', { class: 'clickable', onclick: () => openPoint(L.latLng(lat, lon), q) },
          swatch(categoryColor(q.category)),
          el('span', { text: pointName(q) + ' · ' + statusLabel(q) }),
          el('span', { class: 'when', text: day(q.at) })))),
        body.truncated ? el('div', { class: 'pp-empty', text: '仅列出最近的 ' + items.length + ' 条' }) : null));
    } catch (e) {
      if (current(handle)) handle.popup.setContent(errorBox(e, '记录'));
    }
  }

  function errorBox(e, what) {
    if (e && e.status === 404) return el('div', { class: 'pp-empty', text: '该' + what + '不存在或不在您的权限范围内。' });
    return el('div', { class: 'pp-empty', text: what + '加载失败：' + (e && e.message ? e.message : '网络错误') });
  }

  // ---- Territories, figures, overdue ----------------------------------------------------------------

  async function loadOrgUnits() {
    const page = await api('/api/v1/org-units?limit=500');
    orgUnits = page.items;
    territoryLayer.clearLayers();
    territoryShapes.clear();
    const rank = { branch: 0, sub_branch: 1, outlet: 2 };
    const units = orgUnits.filter((u) => u.territory).sort((a, b) => rank[a.kind] - rank[b.kind]);
    let colorIndex = 0;
    for (const unit of units) {
      const color = unit.kind === 'branch' ? '#b3122e' : TERRITORY_COLORS[colorIndex++ % TERRITORY_COLORS.length];
      territoryColor.set(unit.id, color);
      const style = unit.kind === 'branch'
        ? { color, weight: 2, dashArray: '8 6', fill: false, opacity: 0.7 }
        : unit.kind === 'sub_branch'
          ? { color, weight: 1.5, opacity: 0.8, fillColor: color, fillOpacity: 0.07 }
          : { color, weight: 1, dashArray: '3 4', opacity: 0.7, fillOpacity: 0.03 };
      const shape = L.geoJSON(unit.territory, {
        pane: 'territories',
        interactive: false,
        style: () => style,
        coordsToLatLng: (c) => L.latLng(config.datum === 'gcj02' ? toGcj02(c[1], c[0]) : [c[1], c[0]]),
      });
      if (unit.kind !== 'branch') {
        shape.bindTooltip(el('span', { text: unit.name }), { permanent: true, direction: 'center', className: 'territory-label', interactive: false });
      }
      territoryShapes.set(unit.id, shape);
      territoryLayer.addLayer(shape);
    }
    const me = session && session.user && orgUnits.find((u) => u.id === session.user.org_unit_id);
    $('org-name').textContent = me ? me.name : orgUnits.length ? orgUnits[0].name : '';
  }

  async function fitInitialView() {
    if (viewFitted) return;
    viewFitted = true;
    // Frame the territories under the caller's own (where the records are), else their own.
    const mine = session && session.user && session.user.org_unit_id;
    const below = orgUnits.filter((u) => u.parent_id === mine && territoryShapes.has(u.id)).map((u) => territoryShapes.get(u.id));
    const shapes = below.length ? below : [...territoryShapes.values()];
    if (shapes.length) {
      const bounds = L.featureGroup(shapes).getBounds();
      map.fitBounds(bounds, { padding: [20, 20] });
      return;
    }
    // No territory: frame whatever the caller can see.
    try {
      const params = filterParams(activeLayers().length ? activeLayers() : ['partners']);
      params.set('bbox', '-180,-85,180,85');
      params.set('zoom', '2');
      const body = await api('/api/v1/map/features?' + params);
      const points = body.features.flatMap((f) => {
        const [w, s, e, n] = f.properties.extent || [...f.geometry.coordinates, ...f.geometry.coordinates];
        return [[s, w], [n, e]];
      });
      if (points.length) {
        map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 14 });
        return;
      }
    } catch (e) {
      reportError(e, '加载地图数据');
    }
    map.setView([34.5, 108.9], 4);
  }

  async function loadCoverage() {
    try {
      const c = await api('/api/v1/map/coverage?limit=200');
      renderFigures(c.territories, c.totals);
      renderOverdue(c.overdue, c.overdue_total);
    } catch (e) {
      reportError(e, '加载辖区指标');
    }
  }

  function renderFigures(territories, totals) {
    const body = $('territory-table').tBodies[0];
    body.replaceChildren();
    const cells = (f) => [
      el('td', { text: fmt(f.partners) }),
      el('td', { text: fmt(f.active_alliances) }),
      el('td', { class: f.overdue_partners > 0 ? 'bad' : null, text: fmt(f.overdue_partners) }),
      el('td', { text: fmt(f.visits) }),
      el('td', { text: percent(f.verified_share) }),
      el('td', { text: fmt(f.leads) }),
      el('td', { text: fmt(f.conversions) }),
    ];
    const sorted = territories.slice().sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    for (const t of sorted) {
      const color = territoryColor.get(t.org_unit_id) || '#94a3b8';
      const row = el('tr', { dataset: { orgUnit: t.org_unit_id }, title: '在地图上显示' + t.name },
        el('td', null, el('span', { class: 'name' }, swatch(color), t.name)), cells(t));
      row.addEventListener('click', () => focusTerritory(t.org_unit_id, row));
      body.append(row);
    }
    const foot = $('territory-table').tFoot;
    foot.replaceChildren(el('tr', null, el('td', { text: '合计' }), cells(totals)));
  }

  function focusTerritory(id, row) {
    for (const r of $('territory-table').tBodies[0].rows) r.classList.toggle('selected', r === row);
    const shape = territoryShapes.get(id);
    if (!shape) {
      setStatus('该辖区未划定地图范围');
      return;
    }
    map.flyToBounds(shape.getBounds(), { padding: [30, 30], duration: 0.6 });
    shape.setStyle({ weight: 3 });
    setTimeout(() => shape.setStyle({ weight: 1.5 }), 2500);
  }

  function renderOverdue(items, total) {
    $('overdue-total').textContent = fmt(total) + ' 家';
    const list = $('overdue-list');
    list.replaceChildren();
    if (items.length === 0) {
      list.append(el('li', { class: 'more', text: '暂无逾期未访的合作方' }));
      return;
    }
    for (const o of items) {
      const last = o.last_verified_visit_at ? '上次核验走访 ' + day(o.last_verified_visit_at) : '从未核验走访';
      const item = el('li', { tabindex: 0, role: 'button', dataset: { testid: 'overdue-item', partnerId: o.partner_id } },
        swatch(categoryColor(o.category)),
        el('span', { class: 'title', text: o.name }),
        el('span', { class: 'days', text: '逾期 ' + o.overdue_days + ' 天' }),
        el('span', { class: 'meta', text: categoryLabel(o.category) + ' · ' + (PARTNER_STATUS[o.status] || o.status) + ' · ' + o.owner_name + ' · ' + last }));
      const go = () => {
        for (const li of list.children) li.classList.toggle('active', li === item);
        focusPartner(o);
      };
      item.addEventListener('click', go);
      item.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          go();
        }
      });
      list.append(item);
    }
    if (total > items.length) list.append(el('li', { class: 'more', text: '另有 ' + fmt(total - items.length) + ' 家未列出' }));
  }

  function focusPartner(o) {
    const target = L.latLng(o.lat, o.lon);
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      openPartner(o.partner_id, target);
    };
    map.once('moveend', open);
    setTimeout(open, 1500);
    map.flyTo(target, Math.max(16, zoom()), { duration: 0.8 });
  }

  async function loadHeat() {
    if (heatAbort) heatAbort.abort();
    heatAbort = null;
    if (!state.heat || !map || !session) {
      if (heatLayer) heatLayer.clearLayers();
      return;
    }
    const abort = new AbortController();
    heatAbort = abort;
    const params = new URLSearchParams({ bbox: viewBox(), zoom: String(zoom()), limit: '1' });
    try {
      const c = await api('/api/v1/map/coverage?' + params, { signal: abort.signal });
      if (heatAbort !== abort) return;
      heatLayer.clearLayers();
      const cells = (c.heat && c.heat.cells) || [];
      const max = cells.reduce((m, cell) => Math.max(m, cell.count), 1);
      for (const cell of cells) {
        const [w, s, e, n] = cell.bounds;
        heatLayer.addLayer(L.rectangle([[s, w], [n, e]], {
          pane: 'heat', interactive: false, stroke: false, fillColor: '#ef4444', fillOpacity: 0.08 + 0.5 * Math.sqrt(cell.count / max),
        }));
      }
    } catch (e) {
      if (heatAbort === abort) reportError(e, '加载走访热力');
    }
  }

  // ---- Start -----------------------------------------------------------------------------------------

  async function startApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    const user = session.user || {};
    $('user-name').replaceChildren(user.name || '', el('small', { text: ROLE[user.role] || user.role || '' }));
    if (!map) buildMap();
    else map.invalidateSize();
    document.body.dataset.state = 'loading';
    setStatus('加载中…');
    try {
      await loadOrgUnits();
    } catch (e) {
      reportError(e, '加载辖区');
      if (e && e.status === 401) return;
    }
    await fitInitialView();
    scheduleFeatures(0);
    loadCoverage();
  }

  function boot() {
    if (!L) {
      document.body.textContent = '地图组件未能加载，请刷新页面。';
      return;
    }
    buildPanels();
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('lightbox').addEventListener('click', closeLightbox);
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !$('lightbox').hidden) closeLightbox();
    });
    if (session && session.access_token) startApp();
    else showLogin('');
  }

  boot();
})();
