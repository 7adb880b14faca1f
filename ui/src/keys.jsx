import { useEffect, useRef, useState } from 'preact/hooks';

// PAGES are the pages "g" then a letter goes to.
export const PAGES = { i: ['#/', 'Incidents'], m: ['#/map', 'Service map'], e: ['#/explore', 'Explore'], s: ['#/silences', 'Silences'], a: ['#/audit', 'Audit log'] };

// typing tells whether a key goes to a field, where it is text, not a
// shortcut.
function typing(el) {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

// focusMain moves the focus to the page's content, as the skip link does,
// so that Tab goes on from there.
export function focusMain() {
  const m = document.getElementById('main');
  if (m) m.focus({ preventScroll: false });
}

// moveRow focuses the next (by +1) or previous (-1) row link of the page's
// list (the links marked row-link), the first when none has the focus.
function moveRow(by) {
  const rows = [...document.querySelectorAll('main .row-link')];
  if (rows.length === 0) return;
  const at = rows.indexOf(document.activeElement);
  const next = at < 0 ? (by > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + by));
  rows[next].focus();
  rows[next].scrollIntoView({ block: 'nearest' });
}

// useShortcuts listens for the keyboard shortcuts: g then a page's letter
// goes there, / goes to the page's search field, j and k move through the
// list's rows (Enter opens one), ? shows them, Escape closes the help. It
// returns whether the help is shown and its setter.
export function useShortcuts() {
  const [help, setHelp] = useState(false);
  const pending = useRef(false);
  useEffect(() => {
    const on = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      if (e.key === 'Escape') {
        setHelp(false);
        if (typing(e.target)) e.target.blur();
        return;
      }
      if (typing(e.target)) return;
      if (pending.current) { // g was pressed: this key names the page
        pending.current = false;
        const p = PAGES[e.key];
        if (p) {
          e.preventDefault();
          if (location.hash === p[0] || (p[0] === '#/' && location.hash === '')) focusMain();
          else { location.hash = p[0]; focusMain(); }
        }
        return;
      }
      switch (e.key) {
        case 'g': pending.current = true; break;
        case '/': {
          const f = document.querySelector('main form[role=search] input[type=search]') ||
            document.querySelector('main form[role=search] input, main form[role=search] select');
          if (f) { e.preventDefault(); f.focus(); }
          break;
        }
        case 'j': e.preventDefault(); moveRow(1); break;
        case 'k': e.preventDefault(); moveRow(-1); break;
        case '?': e.preventDefault(); setHelp((h) => !h); break;
        default:
      }
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);
  return [help, setHelp];
}

// Help lists the shortcuts, in a dialog that takes the focus and gives it
// back when closed.
export function Help({ onClose }) {
  const box = useRef(null);
  useEffect(() => {
    const back = document.activeElement;
    if (box.current) box.current.focus();
    return () => { if (back && back.focus) back.focus(); };
  }, []);
  return (
    <div class="help-back" onClick={onClose}>
      <div class="help" role="dialog" aria-modal="true" aria-labelledby="help-title" tabindex="-1" ref={box} onClick={(e) => e.stopPropagation()}>
        <h2 id="help-title">Keyboard</h2>
        <table class="keys">
          <tbody>
            {Object.entries(PAGES).map(([k, [, name]]) => <tr><td><kbd>g</kbd> <kbd>{k}</kbd></td><td>{name}</td></tr>)}
            <tr><td><kbd>/</kbd></td><td>the page's search or filter</td></tr>
            <tr><td><kbd>j</kbd> <kbd>k</kbd></td><td>next / previous row of the list; <kbd>Enter</kbd> opens it</td></tr>
            <tr><td><kbd>Tab</kbd></td><td>every link, button and field in reading order; the first Tab offers a skip to the content</td></tr>
            <tr><td><kbd>?</kbd></td><td>this help</td></tr>
            <tr><td><kbd>Esc</kbd></td><td>close it; leave a field</td></tr>
          </tbody>
        </table>
        <button class="ghost close-help" onClick={onClose}>close</button>
      </div>
    </div>
  );
}
