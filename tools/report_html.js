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
  /* A big dump would give a million nodes (59,049 stacks of 20 frames):
   * the tree is grown on demand.  A node's children are made the first
   * time they are needed (drawn, searched, looked up), from the stacks
   * that pass through it (pend); the first view makes only the nodes
   * around what it draws.  A node is one object until it needs more (no
   * child map below 9 children, no site or module list until it has one). */
  var NONE = [];       // the shared empty list: never pushed to
  var KID_MAP = 8;     // more children than this: a name -> child map
  var nodes = [];
  function Node(name, parent) {
    this.name = name;
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
    this.kids = null;    // name -> child, once there are more than KID_MAP
    this.list = NONE;    // the children
    this.bytes = 0;
    this.blocks = 0;
    this.sites = NONE;   // distinct "file:line" (at most 8 kept)
    this.nsites = 0;
    this.modules = NONE;
    this.inlined = false;
    this.unknown = false;
    this.note = '';
    this.pend = null;    // stacks still to grow below it (indices), or null
    this.idx = nodes.length;
    nodes.push(this);
  }
  function child(parent, name) {
    var list = parent.list, n = null, i;
    if (parent.kids) {
      n = parent.kids[name] || null;
    } else {
      for (i = 0; i < list.length; i++)
        if (list[i].name === name) { n = list[i]; break; }
    }
    if (!n) {
      n = new Node(name, parent);
      if (list === NONE) parent.list = list = [];
      list.push(n);
      if (parent.kids) {
        parent.kids[name] = n;
      } else if (list.length > KID_MAP) {
        parent.kids = Object.create(null);
        for (i = 0; i < list.length; i++) parent.kids[list[i].name] = list[i];
      }
    }
    return n;
  }
  /* A frame of data.locs, read once: [name, file, line, inlined, module,
   * address, note] -> {name, site, module, inlined, unknown, note}. */
  function frameInfo(f) {
    return {
      name: f[0],
      site: f[1] ? f[1] + (f[2] ? ':' + f[2] : '') : f[5],
      module: f[4] || '',
      inlined: !!f[3],
      unknown: !f[1] && /^0x|\+0x[0-9a-f]+$/.test(f[0]),
      note: f[6] || ''
    };
  }
  function addSite(n, f) {
    if (n.sites.indexOf(f.site) < 0) {
      n.nsites++;
      if (n.sites === NONE) n.sites = [];
      if (n.sites.length < 8) n.sites.push(f.site);
    }
    if (f.module && n.modules.indexOf(f.module) < 0) {
      if (n.modules === NONE) n.modules = [];
      n.modules.push(f.module);
    }
    if (f.inlined) n.inlined = true;
    if (f.unknown) n.unknown = true;
    if (f.note) n.note = f.note;
  }
  var locs = data.locs.map(function (frames) { return frames.map(frameInfo); });

  var root = new Node('all', null);
  var maxDepth = 0;
  // A stack's loc indices: base 36, data.w digits each (report_html.c).
  function unpack(x) {
    if (typeof x !== 'string') return x;
    var a = [];
    for (var i = 0; i < x.length; i += data.w) a.push(parseInt(x.substr(i, data.w), 36));
    return a;
  }
  var paths = [], pblocks = [], pbytes = []; // per stack: frames (outermost first), weights
  root.pend = [];
  data.stacks.forEach(function (s) {
    var blocks = s[0], bytes = s[1], stackLocs = unpack(s[3]);
    root.blocks += blocks;
    root.bytes += bytes;
    if (!stackLocs.length) {
      var n = child(root, s[2] === 0 ? '[stack table full]' : '[no frames]');
      n.unknown = true;
      n.blocks += blocks;
      n.bytes += bytes;
      if (maxDepth < 1) maxDepth = 1;
      return;
    }
    var path = [];
    for (var i = stackLocs.length - 1; i >= 0; i--) {
      var frames = locs[stackLocs[i]];
      for (var j = frames.length - 1; j >= 0; j--) path.push(frames[j]); // the container, then what is inlined into it
    }
    if (path.length > maxDepth) maxDepth = path.length;
    root.pend.push(paths.length);
    paths.push(path);
    pblocks.push(blocks);
    pbytes.push(bytes);
  });

  function sortList(n) {
    n.list.sort(function (a, b) {
      return b[weight] - a[weight] || b.bytes - a.bytes || (a.name < b.name ? -1 : 1);
    });
  }
  function sortKids() { nodes.forEach(sortList); }
  /* Make n's children from the stacks that pass through it. */
  function grow(n) {
    var p = n.pend;
    if (!p) return;
    n.pend = null;
    for (var i = 0; i < p.length; i++) {
      var st = p[i], path = paths[st], f = path[n.depth], k = child(n, f.name);
      addSite(k, f);
      k.blocks += pblocks[st];
      k.bytes += pbytes[st];
      if (path.length > k.depth) (k.pend || (k.pend = [])).push(st);
    }
    sortList(n);
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
    grow(n);
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
    grow(n);
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
    var queue = [root]; // breadth first; an index, not shift(): a million nodes
    for (var q = 0; q < queue.length; q++) {
      var n = queue[q];
      if (n.name === name && n !== root) return n;
      grow(n);
      for (var i = 0; i < n.list.length; i++) queue.push(n.list[i]);
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
