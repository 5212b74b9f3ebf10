//! What a client or tool sees of a chmpx: the snapshot behind `chmpxstatus` and the
//! libchmpx information calls, sent over the local socket.
use super::Node;
use crate::wire::*;

/// What `chmpxstatus` shows: identity, times, self record, servers and slaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub pid: u32,
    pub start_time: i64,
    pub is_server: bool,
    pub group: String,
    pub chmpxid: u64,
    pub base_msgid: u64,
    pub self_rec: ChmpxSvr,
    pub servers: Vec<ChmpxSvr>,
    pub slaves: Vec<ChmpxSvr>,
    pub client_pids: Vec<u32>,
    pub msgids: Vec<u64>,
    /// The message counts (SELFSTATUS "Stats"; chmpxstatus's server and slave stat).
    pub stats: super::Stats,
}

impl Snapshot {
    pub fn of(n: &Node) -> Snapshot {
        let mut self_rec = n
            .ring
            .get(n.chmpxid)
            .cloned()
            .unwrap_or_else(|| n.self_rec.clone());
        if !n.is_server {
            self_rec = n.self_rec.clone();
        }
        Snapshot {
            pid: n.pid,
            start_time: n.start_time,
            is_server: n.is_server,
            group: n.cfg.group.clone(),
            chmpxid: n.chmpxid,
            base_msgid: n.base_msgid,
            self_rec,
            servers: n.ring.servers.clone(),
            slaves: n.slaves.values().map(|s| s.record.clone()).collect(),
            client_pids: n.client_pids(),
            msgids: n.activated_msgids(),
            stats: n.stats,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&self.pid.to_le_bytes());
        v.extend_from_slice(&self.start_time.to_le_bytes());
        v.push(self.is_server as u8);
        v.extend_from_slice(&(self.group.len() as u32).to_le_bytes());
        v.extend_from_slice(self.group.as_bytes());
        v.extend_from_slice(&self.chmpxid.to_le_bytes());
        v.extend_from_slice(&self.base_msgid.to_le_bytes());
        self.self_rec.encode_into(&mut v);
        for list in [&self.servers, &self.slaves] {
            v.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for s in list {
                s.encode_into(&mut v);
            }
        }
        v.extend_from_slice(&(self.client_pids.len() as u32).to_le_bytes());
        for p in &self.client_pids {
            v.extend_from_slice(&p.to_le_bytes());
        }
        v.extend_from_slice(&(self.msgids.len() as u32).to_le_bytes());
        for m in &self.msgids {
            v.extend_from_slice(&m.to_le_bytes());
        }
        for st in [&self.stats.servers, &self.stats.slaves] {
            for x in st.words() {
                v.extend_from_slice(&x.to_le_bytes());
            }
        }
        v
    }

    pub fn decode(mut b: &[u8]) -> Option<Snapshot> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            if b.len() < n {
                return None;
            }
            let (x, y) = b.split_at(n);
            *b = y;
            Some(x)
        }
        let u32_ =
            |b: &mut &[u8]| take(b, 4).map(|x| u32::from_le_bytes(x.try_into().unwrap_or([0; 4])));
        let u64_ =
            |b: &mut &[u8]| take(b, 8).map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8])));
        let pid = u32_(&mut b)?;
        let start_time = u64_(&mut b)? as i64;
        let is_server = take(&mut b, 1)?[0] != 0;
        let gl = u32_(&mut b)? as usize;
        let group = String::from_utf8(take(&mut b, gl)?.to_vec()).ok()?;
        let chmpxid = u64_(&mut b)?;
        let base_msgid = u64_(&mut b)?;
        let self_rec = ChmpxSvr::decode(take(&mut b, CHMPXSVR_SIZE)?).ok()?;
        let mut lists = Vec::new();
        for _ in 0..2 {
            let n = u32_(&mut b)? as usize;
            if n > b.len() / CHMPXSVR_SIZE {
                return None;
            }
            let mut l = Vec::with_capacity(n);
            for _ in 0..n {
                l.push(ChmpxSvr::decode(take(&mut b, CHMPXSVR_SIZE)?).ok()?);
            }
            lists.push(l);
        }
        let n = u32_(&mut b)? as usize;
        let client_pids = (0..n.min(b.len() / 4))
            .map(|_| u32_(&mut b))
            .collect::<Option<Vec<_>>>()?;
        let n = u32_(&mut b)? as usize;
        let msgids = (0..n.min(b.len() / 8))
            .map(|_| u64_(&mut b))
            .collect::<Option<Vec<_>>>()?;
        let mut counts = [super::Stat::default(); 2];
        for st in &mut counts {
            let mut w = [0u64; 5];
            for x in &mut w {
                *x = u64_(&mut b)?;
            }
            *st = super::Stat::from_words(w);
        }
        let slaves = lists.pop()?;
        let servers = lists.pop()?;
        Some(Snapshot {
            pid,
            start_time,
            is_server,
            group,
            chmpxid,
            base_msgid,
            self_rec,
            servers,
            slaves,
            client_pids,
            msgids,
            stats: super::Stats {
                servers: counts[0],
                slaves: counts[1],
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot comes back as it went, message counts included; a cut one is refused.
    #[test]
    fn a_snapshot_round_trips_with_its_counts() {
        let stat = |n: u64| super::super::Stat {
            sent: n,
            received: n + 1,
            bytes: n * 200,
            min_bytes: 121,
            max_bytes: 9000 + n,
        };
        let snap = Snapshot {
            pid: 7,
            start_time: 1_700_000_000,
            is_server: true,
            group: "G".into(),
            chmpxid: 0x1234,
            base_msgid: 0x5678,
            self_rec: ChmpxSvr::default(),
            servers: vec![ChmpxSvr::default(); 2],
            slaves: vec![ChmpxSvr::default()],
            client_pids: vec![3, 4],
            msgids: vec![9],
            stats: super::super::Stats {
                servers: stat(5),
                slaves: stat(6),
            },
        };
        let bytes = snap.encode();
        let back = Snapshot::decode(&bytes).expect("decodes");
        assert_eq!(back.stats, snap.stats);
        assert_eq!((back.pid, back.chmpxid, back.servers.len()), (7, 0x1234, 2));
        assert_eq!((back.client_pids, back.msgids), (vec![3, 4], vec![9]));
        assert!(Snapshot::decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
