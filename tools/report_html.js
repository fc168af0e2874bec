/* SPDX-License-Identifier: MIT */
/*
 * report_html.js - the flame graph of memledger's html report, inlined into
 * the page by tools/report_html.c (as a C string made by tools/embed.awk).
 *
 * Reads the JSON block #mlr-data (format in report_html.c: write_data) and
 * draws an icicle graph in #fg: the outermost callers on top, the
 * allocating functions at the bottom, one absolutely positioned <div
 * class="fg-node" data-name="..."> per visible node.  Click zooms into a
 * node, "reset zoom" (or Escape) goes back, the search box highlights the
 * nodes whose function or file:line matches, the tooltip gives bytes,
 * blocks, file:line and module.  The view is kept in the URL
 * (#search=<regex>&zoom=<function>&weight=blocks), so that it can be shared
 * and tested.  Plain ES5, no libraries, no network.
 */
(function () {
  'use strict';
  var ROW = 18;        // px per level
  var MIN_WIDTH = 0.05; // % of the view: narrower nodes are not drawn

  var dataEl = document.getElementById('mlr-data');
  var fg = document.getElementById('fg');
  if (!dataEl || !fg) return;
  var data = JSON.parse(dataEl.textContent);
  var tip = document.getElementById('fg-tip');
  var search = document.getElementById('fg-search');
  var resetBtn = document.getElementById('fg-reset');
  var status = document.getElementById('fg-status');
  var weight = data.weight === 'blocks' ? 'blocks' : 'bytes';

  // ---- the tree: one node per distinct call path, merged by function ----
  var nodes = [];
  function Node(name, parent) {
    this.name = name;
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
    this.kids = Object.create(null);
    this.list = [];
    this.bytes = 0;
    this.blocks = 0;
    this.sites = [];   // distinct "file:line" (at most 8 kept)
    this.nsites = 0;
    this.modules = [];
    this.inlined = false;
    this.unknown = false;
    this.note = '';
    this.idx = nodes.length;
    nodes.push(this);
  }
  function child(parent, name) {
    var n = parent.kids[name];
    if (!n) {
      n = parent.kids[name] = new Node(name, parent);
      parent.list.push(n);
    }
    return n;
  }
  function addSite(n, f) {
    var site = f[1] ? f[1] + (f[2] ? ':' + f[2] : '') : f[5];
    if (n.sites.indexOf(site) < 0) {
      n.nsites++;
      if (n.sites.length < 8) n.sites.push(site);
    }
    if (f[4] && n.modules.indexOf(f[4]) < 0) n.modules.push(f[4]);
    if (f[3]) n.inlined = true;
    if (!f[1] && /^0x|\+0x[0-9a-f]+$/.test(f[0])) n.unknown = true;
    if (f[6]) n.note = f[6];
  }

  var root = new Node('all', null);
  var maxDepth = 0;
  // A stack's loc indices: base 36, data.w digits each (report_html.c).
  function unpack(x) {
    if (typeof x !== 'string') return x;
    var a = [];
    for (var i = 0; i < x.length; i += data.w) a.push(parseInt(x.substr(i, data.w), 36));
    return a;
  }
  data.stacks.forEach(function (s) {
    var blocks = s[0], bytes = s[1], locs = unpack(s[3]);
    var n = root;
    root.blocks += blocks;
    root.bytes += bytes;
    if (!locs.length) locs = null;
    if (!locs) {
      n = child(n, s[2] === 0 ? '[stack table full]' : '[no frames]');
      n.unknown = true;
      n.blocks += blocks;
      n.bytes += bytes;
    }
    for (var i = locs ? locs.length - 1 : -1; i >= 0; i--) {
      var frames = data.locs[locs[i]];
      for (var j = frames.length - 1; j >= 0; j--) { // the container, then what is inlined into it
        n = child(n, frames[j][0]);
        addSite(n, frames[j]);
        n.blocks += blocks;
        n.bytes += bytes;
      }
    }
    if (n.depth > maxDepth) maxDepth = n.depth;
  });

  function sortKids() {
    nodes.forEach(function (n) {
      n.list.sort(function (a, b) {
        return b[weight] - a[weight] || b.bytes - a.bytes || (a.name < b.name ? -1 : 1);
      });
    });
  }

  // ---- formatting ------------------------------------------------------
  function human(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], u = 0;
    if (n < 1024) return n + ' B';
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) + ' ' + units[u];
  }
  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '-'; }
  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  function color(n) {
    if (n === root) return 'hsl(220, 10%, 80%)';
    if (n.unknown) return 'hsl(0, 0%, 75%)';
    var h = hash(n.name);
    if (n.inlined) return 'hsl(' + (185 + h % 30) + ', 55%, ' + (68 + (h >> 8) % 12) + '%)';
    return 'hsl(' + (8 + h % 42) + ', ' + (75 + (h >> 8) % 20) + '%, ' + (58 + (h >> 16) % 14) + '%)';
  }

  // ---- search ----------------------------------------------------------
  var matcher = null;
  function matches(n) {
    if (!matcher || n === root) return false;
    if (matcher.test(n.name)) return true;
    for (var i = 0; i < n.sites.length; i++) if (matcher.test(n.sites[i])) return true;
    return false;
  }
  function setSearch(text) {
    matcher = null;
    if (text) {
      try {
        matcher = new RegExp(text, 'i');
      } catch (e) {
        matcher = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      }
    }
  }
  /* Weight under matching nodes, each counted once (not again below a
   * matching ancestor). */
  function matchedWeight(n) {
    if (matches(n)) return n[weight];
    var sum = 0;
    for (var i = 0; i < n.list.length; i++) sum += matchedWeight(n.list[i]);
    return sum;
  }

  // ---- drawing ---------------------------------------------------------
  var zoom = root;
  function draw(frag, n, x, w, cls) {
    var d = document.createElement('div');
    d.className = 'fg-node' + (cls || '') + (n.inlined ? ' fg-inl' : '') +
      (matches(n) ? ' fg-match' : '');
    d.style.left = x + '%';
    d.style.width = w + '%';
    d.style.top = (n.depth * ROW) + 'px';
    if (!/fg-match/.test(d.className)) d.style.background = color(n);
    d.setAttribute('data-name', n.name);
    d.setAttribute('data-idx', n.idx);
    d.textContent = n.name;
    frag.appendChild(d);
  }
  function layout(frag, n, x, w, total) {
    draw(frag, n, x, w, n === zoom && n !== root ? ' fg-zoom' : '');
    var cx = x, deepest = n.depth;
    for (var i = 0; i < n.list.length; i++) {
      var k = n.list[i], kw = total ? 100 * k[weight] / total : 0;
      if (kw >= MIN_WIDTH) deepest = Math.max(deepest, layout(frag, k, cx, kw, total));
      cx += kw;
    }
    return deepest;
  }
  function paint() {
    var frag = document.createDocumentFragment();
    for (var a = zoom.parent; a; a = a.parent) draw(frag, a, 0, 100, ' fg-anc');
    var deepest = root[weight] ? layout(frag, zoom, 0, 100, zoom[weight]) : 0;
    if (!root[weight]) {
      var empty = document.createElement('p');
      empty.className = 'fg-empty';
      empty.textContent = 'No unfreed blocks to show.';
      frag.appendChild(empty);
    }
    fg.textContent = '';
    fg.appendChild(frag);
    fg.style.height = ((Math.max(deepest, maxDepth) + 1) * ROW + 2) + 'px';
    var s = '';
    if (matcher) {
      var m = matchedWeight(root);
      s = 'matched: ' + (weight === 'bytes' ? human(m) : grouped(m) + ' blocks') + ' (' +
        pct(m, root[weight]) + ')';
    }
    if (zoom !== root) s += (s ? ' \u00b7 ' : '') + 'zoomed to ' + zoom.name;
    status.textContent = s;
    resetBtn.disabled = zoom === root;
  }

  function nodeAt(ev) {
    var t = ev.target;
    while (t && t !== fg && !(t.classList && t.classList.contains('fg-node'))) t = t.parentNode;
    return t && t !== fg ? nodes[+t.getAttribute('data-idx')] : null;
  }

  // ---- tooltip ---------------------------------------------------------
  function line(parent, label, text) {
    var p = document.createElement('div');
    if (label) {
      var b = document.createElement('b');
      b.textContent = label + ' ';
      p.appendChild(b);
    }
    p.appendChild(document.createTextNode(text));
    parent.appendChild(p);
  }
  function showTip(n, ev) {
    tip.textContent = '';
    var h = document.createElement('div');
    h.className = 'fg-tip-name';
    h.textContent = n.name;
    tip.appendChild(h);
    line(tip, 'bytes', human(n.bytes) + ' (' + grouped(n.bytes) + ', ' + pct(n.bytes, root.bytes) + ')');
    line(tip, 'blocks', grouped(n.blocks) + ' (' + pct(n.blocks, root.blocks) + ')');
    if (n.sites.length)
      line(tip, 'at', n.sites.join(', ') + (n.nsites > n.sites.length ? ', \u2026' : ''));
    if (n.modules.length) line(tip, 'in', n.modules.join(', '));
    if (n.inlined) line(tip, '', 'inlined into its caller');
    if (n.note) line(tip, 'note', n.note);
    if (n !== root) line(tip, '', n === zoom ? 'click: zoom out' : 'click: zoom in');
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 4) x = Math.max(4, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 4) y = Math.max(4, ev.clientY - r.height - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }

  // ---- events ------------------------------------------------------------
  fg.addEventListener('click', function (ev) {
    var n = nodeAt(ev);
    if (!n) return;
    zoom = n === zoom && n.parent ? n.parent : n;
    tip.hidden = true;
    render();
  });
  fg.addEventListener('mousemove', function (ev) {
    var n = nodeAt(ev);
    if (n) showTip(n, ev);
    else tip.hidden = true;
  });
  fg.addEventListener('mouseleave', function () { tip.hidden = true; });
  resetBtn.addEventListener('click', function () { zoom = root; render(); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && zoom !== root) { zoom = root; render(); }
  });
  search.addEventListener('input', function () { setSearch(search.value); render(); });
  Array.prototype.forEach.call(document.querySelectorAll('input[name="fg-weight"]'), function (r) {
    r.addEventListener('change', function () {
      if (!r.checked) return;
      weight = r.value;
      sortKids();
      render();
    });
  });

  // ---- the view in the URL: #search=<regex>&zoom=<function> --------------
  function findNode(name) {
    var queue = [root];
    while (queue.length) {
      var n = queue.shift();
      if (n.name === name && n !== root) return n;
      queue.push.apply(queue, n.list);
    }
    return root;
  }
  function readHash() {
    var q = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i > 0) {
        try { q[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* ignore */ }
      }
    });
    if (q.weight === 'bytes' || q.weight === 'blocks') weight = q.weight;
    if (q.search !== undefined) search.value = q.search;
    setSearch(search.value);
    sortKids();
    zoom = q.zoom ? findNode(q.zoom) : root;
  }
  function writeHash() {
    var parts = [];
    if (search.value) parts.push('search=' + encodeURIComponent(search.value));
    if (zoom !== root) parts.push('zoom=' + encodeURIComponent(zoom.name));
    if (weight !== (data.weight === 'blocks' ? 'blocks' : 'bytes')) parts.push('weight=' + weight);
    var h = parts.length ? '#' + parts.join('&') : '';
    if (h !== location.hash && window.history && history.replaceState)
      history.replaceState(null, '', h || location.pathname + location.search);
  }
  function render() {
    paint();
    writeHash();
  }
  window.addEventListener('hashchange', function () { readHash(); syncRadios(); paint(); });
  function syncRadios() {
    Array.prototype.forEach.call(document.querySelectorAll('input[name="fg-weight"]'), function (r) {
      r.checked = r.value === weight;
    });
  }

  readHash();
  syncRadios();
  paint();
})();
