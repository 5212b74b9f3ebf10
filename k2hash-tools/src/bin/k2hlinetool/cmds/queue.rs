//! `queue` and `keyqueue`: the line commands over k2hash queues.
use super::*;

const SUBS: &[&str] = &[
    "empty", "count", "read", "push", "pop", "dump", "remove", "rm",
];

/// `fifo`/`lifo` (anything else reports and means LIFO, like the original).
fn fifo_param(sub: &str, s: &str, what: &str) -> bool {
    if eq(s, "fifo") {
        true
    } else {
        if !eq(s, "lifo") {
            err(&format!("{what} {sub} command has unknown parameter: {s}"));
        }
        false
    }
}

/// Parse `pass=`/`expire=` words; None (after reporting) on anything else.
fn pass_expire(words: &[String], allow_expire: bool) -> Option<(Option<String>, Option<i64>)> {
    let (mut pass, mut expire) = (None, None);
    for w in words {
        if let Some(v) = kv(w, "pass=") {
            pass = Some(v.to_string());
        } else if let Some(v) = kv(w, "expire=").filter(|_| allow_expire) {
            let e = atoi(v);
            if e <= 0 {
                err("expire parameter must be number over 0.");
                return None;
            }
            expire = Some(e);
        } else {
            err(&format!("unknown parameter {w}."));
            return None;
        }
    }
    Some((pass, expire))
}

pub(super) fn queue_cmd(k: Option<&K2h>, p: &mut Vec<String>, keyq: bool) {
    let what = if keyq { "keyqueue" } else { "queue" };
    let mut prefix: Option<String> = None;
    if !SUBS.iter().any(|s| eq(s, &p[0])) {
        if p.len() < 2 {
            return err(&format!("{what} command needs sub command parameter."));
        }
        prefix = Some(p.remove(0));
        if !SUBS.iter().any(|s| eq(s, &p[0])) {
            return err(&format!("{what} command needs sub command parameter."));
        }
    }
    let sub = p[0].to_ascii_lowercase();
    let q = |fifo: bool| Queue::new(prefix.as_deref().map(str::as_bytes), fifo);
    let title = if keyq { "Key Queue" } else { "Queue" };
    let n = p.len();
    let (min, max) = match sub.as_str() {
        "empty" | "count" => (1, 1),
        "read" => (3, 4),
        "push" if keyq => (4, 6),
        "push" => (3, 5),
        "pop" | "dump" => (2, if sub == "pop" { 3 } else { 2 }),
        _ => (3, 5),
    };
    if n < min || n > max {
        if n > max {
            err(&format!(
                "Unknown parameter({}) for queue {sub} command.",
                p[max]
            ));
        } else {
            err(&format!("{what} {sub} command needs more parameter."));
        }
        return;
    }
    match sub.as_str() {
        "empty" => {
            let empty = k
                .map(|k| q(true).is_empty(k).unwrap_or(true))
                .unwrap_or(true);
            prn(&format!(
                " {title} is {}",
                if empty { "EMPTY." } else { "NOT empty." }
            ));
            prn("");
        }
        "count" => {
            let c = k.map(|k| q(true).count(k).unwrap_or(0)).unwrap_or(0);
            prn(&format!(" Data count in {title} : {c}"));
            prn("");
        }
        "read" => {
            let fifo = fifo_param("read", &p[1], "queue");
            let pos = atoi(&p[2]) as i32;
            let Some((pass, _)) = pass_expire(&p[3..], false) else {
                return;
            };
            let Some(k) = k else {
                return err("Something error occurred during reading queue.");
            };
            if keyq {
                match q(fifo).read_keyval(k, pos, pass.as_deref()) {
                    Ok(Some((key, val))) => {
                        dump_out(b"READ QUEUE(KEY)  ", &key);
                        dump_out(b"READ QUEUE(VALUE)", &val);
                    }
                    Ok(None) => err("There is no read queue."),
                    Err(_) => err("Something error occurred during reading key queue."),
                }
            } else {
                match q(fifo).read(k, pos, pass.as_deref()) {
                    Ok(Some(v)) if !v.is_empty() => {
                        dump_out(b"READ QUEUE", &v);
                    }
                    Ok(_) => err("There is no read queue."),
                    Err(_) => err("Something error occurred during reading queue."),
                }
            }
        }
        "push" => {
            let fifo = fifo_param("push", &p[1], "queue");
            let rest = if keyq { 4 } else { 3 };
            let Some((pass, expire)) = pass_expire(&p[rest..], true) else {
                return;
            };
            let r = k.map(|k| {
                if keyq {
                    q(fifo).push_keyval(
                        k,
                        &with_nul(&p[2]),
                        &with_nul(&p[3]),
                        pass.as_deref(),
                        expire,
                    )
                } else {
                    q(fifo).push(k, &with_nul(&p[2]), &[], pass.as_deref(), expire)
                }
            });
            if !matches!(r, Some(Ok(()))) {
                err("Something error occurred during pushing queue.");
            }
        }
        "pop" => {
            let fifo = fifo_param("pop", &p[1], "queue");
            let Some((pass, _)) = pass_expire(&p[2..], false) else {
                return;
            };
            let Some(k) = k else {
                return err("Something error occurred during popping queue.");
            };
            if keyq {
                match q(fifo).pop_keyval(k, pass.as_deref()) {
                    Ok(Some((key, Some(val)))) if !key.is_empty() => {
                        dump_out(b"POPPED QUEUE(KEY)  ", &key);
                        dump_out(b"POPPED QUEUE(VALUE)", &val);
                    }
                    Ok(_) => err("There is no popped queue."),
                    Err(_) => err("Something error occurred during popping queue."),
                }
            } else {
                match q(fifo).pop(k, pass.as_deref()) {
                    Ok(Some(Some(v))) if !v.is_empty() => {
                        dump_out(b"POPPED QUEUE", &v);
                    }
                    Ok(_) => err("There is no popped queue."),
                    Err(_) => err("Something error occurred during popping queue."),
                }
            }
        }
        "dump" => {
            let fifo = fifo_param("dump", &p[1], "queue");
            match k.map(|k| q(fifo).dump(k)) {
                Some(Ok(t)) => out_raw(t.as_bytes()),
                _ => err("Something error occurred during dumping queue."),
            }
        }
        _ => {
            let fifo = fifo_param("remove", &p[1], "queue");
            let count = atoi(&p[2]);
            if count <= 0 {
                return err("queue remove count is ignore.");
            }
            let mut confirm = false;
            let mut words = Vec::new();
            for w in &p[3..] {
                if eq(w, "c") || eq(w, "confirm") {
                    confirm = true;
                } else {
                    words.push(w.clone());
                }
            }
            let Some((pass, _)) = pass_expire(&words, false) else {
                return;
            };
            let Some(k) = k else {
                return err("Something error occurred during removing queue.");
            };
            let r = q(fifo).remove(k, count as usize, pass.as_deref(), |data, attrs| {
                if confirm {
                    confirm_remove(data, attrs)
                } else {
                    Trial::Remove
                }
            });
            if r.is_err() {
                err("Something error occurred during removing queue.");
            }
        }
    }
}

/// Ask whether to remove one queued entry (`c` option of queue remove).
fn confirm_remove(data: &[u8], attrs: &[(Vec<u8>, Vec<u8>)]) -> Trial {
    prn("\n");
    if let Some(d) = binary_dump(b"REMOVING QUEUED DATA(KEY)", data) {
        out(&d);
    }
    prn("REMOVING QUEUED ATTRIBUTE = {");
    dump_attrs(attrs);
    prn("}");
    loop {
        let Some(a) = ask("Do you remove this queued data? [y/n/b] (y) -> ") else {
            return Trial::Stop;
        };
        if ["y", "yes", "true"].iter().any(|x| eq(&a, x)) {
            return Trial::Remove;
        }
        if ["n", "no", "false"].iter().any(|x| eq(&a, x)) {
            return Trial::Keep;
        }
        if ["b", "break", "stop"].iter().any(|x| eq(&a, x)) {
            return Trial::Stop;
        }
    }
}
