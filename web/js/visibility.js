// Which cameras are worth playing: each session costs the camera an uplink stream
// and the browser a decoder, so a grid of hundreds must not play them all. A new
// grid tile plays once it is reported on screen (the first layout, a frame
// later) and never starts otherwise; a tile that leaves the screen pauses after
// OFFSCREEN_MS (scrolling past does not churn sessions); every tile of a tab that
// stays hidden pauses after HIDDEN_MS. Both resume at once when seen again.

const OFFSCREEN_MS = 2000;
const HIDDEN_MS = 10000;

export class Visibility {
  // onChange(id): camera `id` (null: every camera) may have changed its wanted().
  constructor(onChange) {
    this.onChange = onChange;
    this.unseen = new Set();     // tiles not reported yet: not started either
    this.offscreen = new Set();  // cameras off screen for longer than OFFSCREEN_MS
    this.timers = new Map();     // camera -> timer that will mark it off screen
    this.hidden = false;         // the tab has been hidden for longer than HIDDEN_MS
    this.hiddenTimer = null;
    this.observer = new IntersectionObserver((entries) => this.seen(entries));
    document.addEventListener('visibilitychange', () => this.tab());
  }

  // The observer reports each tile after the next layout.
  watch(figure) {
    this.unseen.add(figure.dataset.camera);
    this.observer.observe(figure);
  }

  // Not reported yet: neither started nor paused.
  pending(id) { return this.unseen.has(id); }

  forget(figure) {
    const id = figure.dataset.camera;
    this.observer.unobserve(figure);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const wasUnseen = this.unseen.delete(id);
    const wasOffscreen = this.offscreen.delete(id);
    if (wasUnseen || wasOffscreen) this.onChange(id);
  }

  wanted(id) { return !this.hidden && !this.unseen.has(id) && !this.offscreen.has(id); }

  seen(entries) {
    for (const entry of entries) {
      const id = entry.target.dataset.camera;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      const onScreen = entry.isIntersecting && entry.intersectionRatio > 0;
      if (this.unseen.delete(id)) {  // the first report: no grace either way
        if (!onScreen) this.offscreen.add(id);
        this.onChange(id);
      } else if (onScreen) {
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
