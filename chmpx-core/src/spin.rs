//! Polling before sleeping, for hosts with spare cores (opt-in).
//!
//! Every hop of a request wakes a sleeping process; on a virtual machine a wake-up on another
//! core costs ~20 µs (an inter-processor interrupt and the idle vCPU's exit from the
//! hypervisor), far more than the work of the hop (docs/performance.md). A process that polls
//! for a short while before it sleeps catches the next message without that cost, at the price
//! of the CPU time it polls. The window adapts like the guest halt-polling governor of Linux
//! (`cpuidle-haltpoll`): a wait that ended within the configured maximum (during the poll or
//! soon after going to sleep) doubles the window, up to the maximum; a longer wait halves it,
//! so an idle or lightly loaded process soon stops polling.
//!
//! `CHMPX_LOOP_SPIN_US` sets the maximum window (microseconds, 0 = off) of the event loop of
//! `chmpx`: on by default on a slave (`SLAVE_DEFAULT_US`; every request of the host's clients
//! passes it twice), off on servers (on a host shared by several servers, polling processes take
//! the cores from each other: three times slower in a one-host cluster here). `CHMPX_SPIN_US`
//! does the same for the waits of client processes (libchmpx, libk2hdkc, the k2hdkc server):
//! off unless set, except for a client whose requests go on direct links (`LINK_SPIN_US`; the
//! slave no longer polls for it). A poll that is preempted (another process wanted the core;
//! a client's or the event loop's) stops its polling for a while: without that, two polling clients on two cores
//! halved their throughput, four lost 15-25 %; with it they are even with sleeping ones.

use std::time::{Duration, Instant};

/// The maximum window of a slave's event loop when CHMPX_LOOP_SPIN_US is not set: every
/// request of the host's clients passes a slave twice, and its polling measured never worse
/// than sleeping (one client: gets ~1.5x, sets ~1.3x; several clients: the same or better).
pub const SLAVE_DEFAULT_US: u64 = 100;

/// The maximum window of a client on direct links when CHMPX_SPIN_US is not set: its answers
/// no longer pass a polling slave, so the client polls for them itself; a poll that is
/// preempted stops polling for a while (`Spinner::preempted`), so several clients on few
/// cores do not take the cores from the processes that answer them.
pub const LINK_SPIN_US: u64 = 100;

/// The first window after a short wait.
const START: Duration = Duration::from_micros(10);
/// Waits without polling after a poll that was preempted (`Spinner::preempted`).
const COOLDOWN_WAITS: u32 = 256;

/// The adaptive polling window of one waiting loop. Pure: the caller measures the waits.
#[derive(Debug, Clone)]
pub struct Spinner {
    max: Duration,
    window: Duration,
    /// Waits left without polling (after a preempted poll).
    cooldown: u32,
}

impl Spinner {
    /// A governor with the given maximum window (zero: never polls).
    pub fn new(max: Duration) -> Spinner {
        Spinner {
            max,
            window: Duration::ZERO,
            cooldown: 0,
        }
    }

    /// From the environment variable `name` (microseconds; unset, empty or bad: off).
    pub fn from_env(name: &str) -> Spinner {
        Spinner::from_env_or(name, 0)
    }

    /// From the environment variable `name` (microseconds, 0 = off), `default_us` when it is
    /// unset, empty or not a number.
    pub fn from_env_or(name: &str, default_us: u64) -> Spinner {
        let us = std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default_us)
            .min(10_000);
        Spinner::new(Duration::from_micros(us))
    }

    /// Whether polling is configured at all.
    pub fn enabled(&self) -> bool {
        !self.max.is_zero()
    }

    /// How long to poll before the next sleep.
    pub fn window(&self) -> Duration {
        if self.cooldown > 0 {
            Duration::ZERO
        } else {
            self.window
        }
    }

    /// The last poll was preempted (the thread was switched out involuntarily while it
    /// polled): another process wanted the core, so polling took it from the very processes
    /// that would answer. No polling for the next `COOLDOWN_WAITS` waits, then from the start.
    pub fn preempted(&mut self) {
        self.cooldown = COOLDOWN_WAITS;
        self.window = Duration::ZERO;
    }

    /// Polls with `ready` (true: something came) until it says so or the window since `t0`
    /// is over; Ok(true) when something came. A poll that was preempted (the thread was
    /// switched out involuntarily meanwhile) is recorded ([`Spinner::preempted`]). The caller
    /// sleeps when nothing came, and reports the whole wait with [`Spinner::waited`].
    pub fn poll_window<E>(
        &mut self,
        t0: Instant,
        mut ready: impl FnMut() -> Result<bool, E>,
    ) -> Result<bool, E> {
        let window = self.window();
        if window.is_zero() {
            return Ok(false);
        }
        let switches = involuntary_switches();
        let got = loop {
            if ready()? {
                break true;
            }
            if t0.elapsed() >= window {
                break false;
            }
            std::hint::spin_loop();
        };
        if involuntary_switches() > switches {
            self.preempted();
        }
        Ok(got)
    }

    /// A wait ended after `waited` (polling and sleeping together).
    pub fn waited(&mut self, waited: Duration) {
        if !self.enabled() {
            return;
        }
        if self.cooldown > 0 {
            self.cooldown -= 1;
            return;
        }
        if waited <= self.max {
            self.window = if self.window < START {
                START.min(self.max)
            } else {
                (self.window * 2).min(self.max)
            };
        } else {
            self.window /= 2;
            if self.window < START {
                self.window = Duration::ZERO;
            }
        }
    }
}

/// Involuntary context switches of the calling thread so far (`getrusage(RUSAGE_THREAD)`):
/// one more after a poll means the poll was preempted.
pub fn involuntary_switches() -> i64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_THREAD is always valid.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_THREAD, &mut u) != 0 {
            return 0;
        }
        u.ru_nivcsw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn off_never_polls() {
        let mut s = Spinner::new(Duration::ZERO);
        for _ in 0..10 {
            s.waited(us(1));
        }
        assert!(!s.enabled());
        assert_eq!(s.window(), Duration::ZERO);
    }

    #[test]
    fn short_waits_grow_to_the_maximum_long_ones_stop_polling() {
        let mut s = Spinner::new(us(100));
        assert_eq!(s.window(), Duration::ZERO);
        s.waited(us(30));
        assert_eq!(s.window(), us(10));
        s.waited(us(30));
        assert_eq!(s.window(), us(20));
        for _ in 0..10 {
            s.waited(us(5));
        }
        assert_eq!(s.window(), us(100));
        s.waited(us(5_000));
        assert_eq!(s.window(), us(50));
        s.waited(us(5_000));
        s.waited(us(5_000));
        assert_eq!(s.window(), Duration::from_nanos(12_500));
        s.waited(us(5_000));
        assert_eq!(s.window(), Duration::ZERO);
        // a wait exactly at the maximum still counts as short
        s.waited(us(100));
        assert_eq!(s.window(), us(10));
    }

    #[test]
    fn a_preempted_poll_stops_polling_for_a_while() {
        let mut s = Spinner::new(us(100));
        for _ in 0..10 {
            s.waited(us(5));
        }
        assert_eq!(s.window(), us(100));
        s.preempted();
        for _ in 0..COOLDOWN_WAITS {
            assert_eq!(s.window(), Duration::ZERO);
            s.waited(us(5));
        }
        s.waited(us(5));
        assert_eq!(s.window(), us(10));
    }

    #[test]
    fn a_small_maximum_caps_the_first_window() {
        let mut s = Spinner::new(us(4));
        s.waited(us(1));
        assert_eq!(s.window(), us(4));
    }

    #[test]
    fn environment_values() {
        std::env::set_var("CHMPX_SPIN_TEST_A", " 250 ");
        assert_eq!(Spinner::from_env("CHMPX_SPIN_TEST_A").max, us(250));
        std::env::set_var("CHMPX_SPIN_TEST_A", "lots");
        assert!(!Spinner::from_env("CHMPX_SPIN_TEST_A").enabled());
        std::env::set_var("CHMPX_SPIN_TEST_A", "99999999");
        assert_eq!(Spinner::from_env("CHMPX_SPIN_TEST_A").max, us(10_000));
        assert!(!Spinner::from_env("CHMPX_SPIN_TEST_UNSET").enabled());
        assert_eq!(
            Spinner::from_env_or("CHMPX_SPIN_TEST_UNSET", 100).max,
            us(100)
        );
        std::env::set_var("CHMPX_SPIN_TEST_A", "0");
        assert!(!Spinner::from_env_or("CHMPX_SPIN_TEST_A", 100).enabled());
    }

    #[test]
    fn a_window_polls_until_something_comes_or_it_is_over() {
        let mut s = Spinner::new(us(200));
        // no window yet: nothing is polled
        let mut calls = 0;
        assert_eq!(
            s.poll_window(Instant::now(), || -> Result<bool, ()> {
                calls += 1;
                Ok(true)
            }),
            Ok(false)
        );
        assert_eq!(calls, 0);
        s.waited(us(10));
        assert!(!s.window().is_zero());
        // something on the third look
        let mut calls = 0;
        let got = s.poll_window(Instant::now(), || -> Result<bool, ()> {
            calls += 1;
            Ok(calls == 3)
        });
        assert_eq!((got, calls), (Ok(true), 3));
        // nothing: the window ends it
        let (t0, w) = (Instant::now(), s.window());
        assert_eq!(
            s.poll_window(t0, || -> Result<bool, ()> { Ok(false) }),
            Ok(false)
        );
        // (a poll preempted meanwhile stops polling instead)
        assert!(t0.elapsed() >= w || s.window().is_zero());
        // an error ends it at once
        assert_eq!(
            s.poll_window(Instant::now(), || Err::<bool, _>("gone")),
            Err("gone")
        );
    }
}
