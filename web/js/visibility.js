// Which cameras are worth playing: each session costs the camera an uplink stream
// and the browser a decoder, so a grid of hundreds must not play them all. A
// grid tile that leaves the screen pauses after OFFSCREEN_MS (scrolling past does
// not churn sessions); every tile of a tab that stays hidden pauses after
// HIDDEN_MS. Both resume at once when seen again.

const OFFSCREEN_MS = 2000;
const HIDDEN_MS = 10000;

export class Visibility {
  // onChange(id): camera `id` (null: every camera) may have changed its wanted().
  constructor(onChange) {
    this.onChange = onChange;
    this.offscreen = new Set();  // cameras off screen for longer than OFFSCREEN_MS
    this.timers = new Map();     // camera -> timer that will mark it off screen
    this.hidden = false;         // the tab has been hidden for longer than HIDDEN_MS
    this.hiddenTimer = null;
    this.observer = new IntersectionObserver((entries) => this.seen(entries));
    document.addEventListener('visibilitychange', () => this.tab());
  }

  // Tiles start wanted: the observer reports after the first layout.
  watch(figure) { this.observer.observe(figure); }

  forget(figure) {
    const id = figure.dataset.camera;
    this.observer.unobserve(figure);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    if (this.offscreen.delete(id)) this.onChange(id);
  }

  wanted(id) { return !this.hidden && !this.offscreen.has(id); }

  seen(entries) {
    for (const entry of entries) {
      const id = entry.target.dataset.camera;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      if (entry.isIntersecting && entry.intersectionRatio > 0) {
        if (this.offscreen.delete(id)) this.onChange(id);
      } else if (!this.offscreen.has(id)) {
        this.timers.set(id, setTimeout(() => {
          this.timers.delete(id);
          this.offscreen.add(id);
          this.onChange(id);
        }, OFFSCREEN_MS));
      }
    }
  }

  tab() {
    clearTimeout(this.hiddenTimer);
    this.hiddenTimer = null;
    if (document.visibilityState === 'hidden') {
      this.hiddenTimer = setTimeout(() => { this.hidden = true; this.onChange(null); }, HIDDEN_MS);
    } else if (this.hidden) {
      this.hidden = false;
      this.onChange(null);
    }
  }
}
