import fs from 'node:fs';

// CPU time of a process's threads, grouped by role: the source's streaming
// thread and the encoder's own threads (capture + encode: they carry the
// source's thread name), the camera's send thread (the send queue: tee, and for
// every viewer its payloader, RTP session, SRTP, ICE send), and the rest
// (RTCP, ICE receive, main loop). From each thread's schedstat, the time it ran
// in nanoseconds: the tick counts in /proc/<pid>/stat are 10 ms coarse, which is
// a tenth of a viewer's share over a 10 s window.
export function threadTimes(pid) {
  const groups = { total: 0, encode: 0, viewers: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let name, ns;
    try {
      name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch { continue; }  // thread gone
    groups.total += ns;
    if (name === 'src:src') groups.encode += ns;
    // queue-<session>: the reference's one send thread per viewer (agents before 2026-12).
    else if (name === 'send:src' || name.startsWith('queue-')) groups.viewers += ns;
  }
  return groups;
}
export async function cpuPercent(pid, ms) {
  const t0 = threadTimes(pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const t1 = threadTimes(pid);
  const seconds = (performance.now() - w0) / 1000;
  const share = (k) => (100 * (t1[k] - t0[k]) / 1e9) / seconds;
  // Threads that ended during the window (none should: the viewers joined before it) drop out.
  return { total: share('total'), encode: share('encode'), viewers: share('viewers') };
}

