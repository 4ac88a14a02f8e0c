// Ventanilla's pages work without this file; it adds results as you type, filling the person's
// data from a search result, and the copy button. No libraries, no inline handlers (the CSP
// allows scripts from this site only).
(function () {
  'use strict';

  // Reloads a container (data-src, data-params) with the fragment for the form's current values.
  function refresh(container) {
    if (!container || !container.dataset.src) return;
    var form = container.closest('form') || document;
    var url = new URL(container.dataset.src, window.location.origin);
    (container.dataset.params || '').split(',').forEach(function (name) {
      if (!name) return;
      var field = form.querySelector('[name="' + name + '"]:checked') ||
        form.querySelector('[name="' + name + '"]:not([type=radio]):not([type=checkbox])');
      if (field && field.value) url.searchParams.set(name, field.value);
    });
    // data-carry: names sent with every value the form holds (checked boxes, files already
    // chosen), so the reloaded fragment keeps them.
    (container.dataset.carry || '').split(',').forEach(function (name) {
      if (!name) return;
      form.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
        if ((field.type === 'checkbox' || field.type === 'radio') && !field.checked) return;
        if (field.value) url.searchParams.append(name, field.value);
      });
    });
    var ticket = (container._ticket || 0) + 1;
    container._ticket = ticket;
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return ''; }
        return r.ok ? r.text() : '';
      })
      .then(function (html) {
        // Only the answer to the latest question is shown.
        if (container._ticket === ticket) container.innerHTML = html;
      })
      .catch(function () { /* the form still works without the fragment */ });
  }

  function refreshTargets(el) {
    (el.dataset.refresh || '').split(',').forEach(function (sel) {
      if (sel) refresh(document.querySelector(sel));
    });
  }

  document.addEventListener('input', function (e) {
    var el = e.target;
    if (!el.dataset || !el.dataset.refresh || el.type === 'radio' || el.tagName === 'SELECT') return;
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { refreshTargets(el); }, 200);
  });

  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.dataset && el.dataset.refresh && (el.type === 'radio' || el.tagName === 'SELECT')) {
      refreshTargets(el);
    }
  });

  // Enter in a search box does not submit the whole script: it moves to the first result.
  document.addEventListener('keydown', function (e) {
    var el = e.target;
    if (e.key !== 'Enter' || !el.dataset || !el.dataset.refresh || el.tagName !== 'INPUT') return;
    if (el.type === 'radio' || el.type === 'checkbox') return;
    e.preventDefault();
    var target = document.querySelector((el.dataset.refresh || '').split(',')[0]);
    var first = target && target.querySelector('button, input');
    if (first) first.focus();
  });

  function setPersonState(selected) {
    var state = document.getElementById('person-state');
    if (state) state.textContent = selected ? state.dataset.selected : state.dataset.new;
  }

  document.addEventListener('click', function (e) {
    var choice = e.target.closest('[data-fill]');
    if (choice) {
      var data = JSON.parse(choice.dataset.fill);
      var form = choice.closest('form');
      Object.keys(data).forEach(function (name) {
        var field = form.querySelector('[name="' + name + '"]:not([type=radio])');
        if (field) field.value = data[name] == null ? '' : data[name];
      });
      setPersonState(true);
      ['#requester-history', '#service-panel', '#curp-check'].forEach(function (sel) {
        refresh(document.querySelector(sel));
      });
      var name = form.querySelector('[name="full_name"]');
      if (name) name.focus();
      return;
    }
    if (e.target.id === 'clear-person') {
      var f = e.target.closest('form');
      ['requester_id', 'full_name', 'curp', 'boleta', 'employee_number', 'extension', 'email', 'phone', 'unit_id']
        .forEach(function (n) { var x = f.querySelector('[name="' + n + '"]'); if (x) x.value = ''; });
      var udi = f.querySelector('[name="udi_role"]');
      if (udi) udi.value = 'none';
      setPersonState(false);
      document.getElementById('requester-history').innerHTML = '';
      refresh(document.querySelector('#curp-check'));
      refresh(document.querySelector('#service-panel'));
      return;
    }
    var copy = e.target.closest('[data-copy]');
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.dataset.copy).then(function () {
        copy.textContent = copy.dataset.copied;
      });
    }
  });

  // The script's fields are kept in this tab while the agent types, so a session that expired
  // mid-call loses nothing: after signing in again the page comes back filled. The draft is
  // dropped once the request (or referral) is recorded, and ignored after 30 minutes.
  var DRAFT = 'ventanilla-script-draft';

  function saveDraft(form) {
    var data = {};
    new FormData(form).forEach(function (v, k) {
      if (k !== 'csrf' && typeof v === 'string') data[k] = v;
    });
    try { sessionStorage.setItem(DRAFT, JSON.stringify({ at: Date.now(), data: data })); } catch (e) { /* storage off */ }
  }

  function restoreDraft(form) {
    var draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(DRAFT) || 'null'); } catch (e) { draft = null; }
    if (!draft || Date.now() - draft.at > 30 * 60 * 1000) return;
    Object.keys(draft.data).forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]:not([type=radio]):not([type=checkbox])');
      if (field) field.value = draft.data[name];
    });
    var state = document.getElementById('person-state');
    if (state && draft.data.requester_id) state.textContent = state.dataset.selected;
  }

  // --- pages (request flow) ---
  // The pre-printed order's fields (X2) show only when the channel is a service order.
  document.addEventListener('change', function (e) {
    if (e.target.id !== 'f-channel') return;
    var order = document.getElementById('service-order');
    if (order) order.hidden = e.target.value !== 'service_order';
  });
  // --- end pages ---

  document.addEventListener('DOMContentLoaded', function () {
    if (document.getElementById('created-number') || document.getElementById('referral-done')) {
      try { sessionStorage.removeItem(DRAFT); } catch (e) { /* storage off */ }
    }
    var script = document.getElementById('script');
    if (script) {
      // A form the server sent back with errors already holds what was typed.
      if (!document.getElementById('form-errors')) restoreDraft(script);
      script.addEventListener('input', function () { saveDraft(script); });
      script.addEventListener('change', function () { saveDraft(script); });
    }
    // A re-rendered form (after an error) shows again what depended on the typed values.
    var key = document.getElementById('f-idempotency_key');
    if (key && !key.value && window.crypto && crypto.randomUUID) key.value = crypto.randomUUID();
    // Containers with data-poll refresh themselves while the tab is visible (the home queues).
    document.querySelectorAll('[data-poll]').forEach(function (c) {
      setInterval(function () { if (!document.hidden) refresh(c); }, 1000 * Number(c.dataset.poll));
    });
    // A container the server already filled (data-ready) is current.
    document.querySelectorAll('[data-src]:not([data-poll]):not([data-ready])').forEach(function (c) {
      var form = c.closest('form') || document;
      var has = (c.dataset.params || '').split(',').some(function (n) {
        var f = n && form.querySelector('[name="' + n + '"]');
        return f && f.value;
      });
      if (has) refresh(c);
    });
  });
})();
