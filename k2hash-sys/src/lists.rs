//! Serialized subkey and attribute lists (stored in page chains, archives and replication data).
//! Both are kept sorted by raw bytes (memcmp, shorter first) without duplicates.

fn rd(b: &[u8], o: &mut usize) -> Option<u64> {
    let v = b.get(*o..*o + 8)?;
    *o += 8;
    Some(u64::from_le_bytes(v.try_into().ok()?))
}

/// Parse a subkey list; a truncated list yields the complete entries before the damage.
pub fn parse_subkeys(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut o = 0;
    let Some(n) = rd(b, &mut o) else { return out };
    for _ in 0..n {
        let Some(l) = rd(b, &mut o) else { break };
        let Some(end) = o.checked_add(l as usize) else {
            break;
        };
        let Some(k) = b.get(o..end) else { break };
        out.push(k.to_vec());
        o = end;
    }
    out.sort();
    out.dedup();
    out
}

/// Serialize (sorted, deduplicated); an empty list is stored as nothing.
pub fn serialize_subkeys<T: AsRef<[u8]>>(keys: &[T]) -> Vec<u8> {
    let mut v: Vec<&[u8]> = keys
        .iter()
        .map(|k| k.as_ref())
        .filter(|k| !k.is_empty())
        .collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(8 + v.iter().map(|k| 8 + k.len()).sum::<usize>());
    out.extend_from_slice(&(v.len() as u64).to_le_bytes());
    for k in v {
        out.extend_from_slice(&(k.len() as u64).to_le_bytes());
        out.extend_from_slice(k);
    }
    out
}

pub type Attr = (Vec<u8>, Vec<u8>);

pub fn parse_attrs(b: &[u8]) -> Vec<Attr> {
    let mut out: Vec<Attr> = Vec::new();
    let mut o = 0;
    let Some(n) = rd(b, &mut o) else { return out };
    for _ in 0..n {
        let (Some(kl), Some(vl)) = (rd(b, &mut o), rd(b, &mut o)) else {
            break;
        };
        let Some(kend) = o.checked_add(kl as usize) else {
            break;
        };
        let Some(vend) = kend.checked_add(vl as usize) else {
            break;
        };
        let (Some(k), Some(v)) = (b.get(o..kend), b.get(kend..vend)) else {
            break;
        };
        set_attr(&mut out, k, v);
        o = vend;
    }
    out
}

/// Insert or replace an attribute keeping the list sorted by name.
pub fn set_attr(list: &mut Vec<Attr>, k: &[u8], v: &[u8]) {
    match list.binary_search_by(|a| a.0.as_slice().cmp(k)) {
        Ok(i) => list[i].1 = v.to_vec(),
        Err(i) => list.insert(i, (k.to_vec(), v.to_vec())),
    }
}

pub fn del_attr(list: &mut Vec<Attr>, k: &[u8]) {
    if let Ok(i) = list.binary_search_by(|a| a.0.as_slice().cmp(k)) {
        list.remove(i);
    }
}

pub fn get_attr<'a>(list: &'a [Attr], k: &[u8]) -> Option<&'a [u8]> {
    list.binary_search_by(|a| a.0.as_slice().cmp(k))
        .ok()
        .map(|i| list[i].1.as_slice())
}

pub fn serialize_attrs(list: &[Attr]) -> Vec<u8> {
    if list.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(list.len() as u64).to_le_bytes());
    for (k, v) in list {
        out.extend_from_slice(&(k.len() as u64).to_le_bytes());
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn subkeys_sorted_dedup() {
        let s = serialize_subkeys(&[
            b"child1\0".to_vec(),
            b"ch\0".to_vec(),
            b"child0\0".to_vec(),
            b"ch\0".to_vec(),
        ]);
        assert_eq!(s.len(), 49);
        assert_eq!(
            parse_subkeys(&s),
            vec![b"ch\0".to_vec(), b"child0\0".to_vec(), b"child1\0".to_vec()]
        );
        assert!(serialize_subkeys::<Vec<u8>>(&[]).is_empty());
        // truncated input keeps the complete entries
        assert_eq!(parse_subkeys(&s[..34]).len(), 2);
        assert_eq!(parse_subkeys(&s[..33]).len(), 1);
    }
    #[test]
    fn attrs_roundtrip() {
        let mut l = Vec::new();
        set_attr(&mut l, b"b", b"2");
        set_attr(&mut l, b"a", b"");
        set_attr(&mut l, b"b", b"3");
        let s = serialize_attrs(&l);
        assert_eq!(
            parse_attrs(&s),
            vec![(b"a".to_vec(), vec![]), (b"b".to_vec(), b"3".to_vec())]
        );
    }
}
