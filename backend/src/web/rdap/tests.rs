//! The RDAP service's parsing and object building, without a server.

use super::objects::network_base;
use super::*;
use crate::domain::Rir;

fn v4(s: &str) -> IpQuery {
    IpQuery::V4(s.parse().unwrap())
}

#[test]
fn addresses_parse_strictly() {
    assert_eq!(parse_address("192.0.2.1").unwrap(), v4("192.0.2.1"));
    assert_eq!(parse_address("2001:db8::1").unwrap(), IpQuery::V6);
    for bad in [
        "192.0.2",
        "192.0.2.256",
        "010.0.0.1",
        "",
        "x",
        "192.0.2.1/24",
        " 192.0.2.1",
    ] {
        let e = parse_address(bad).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
}

#[test]
fn prefixes_parse_strictly() {
    assert_eq!(parse_prefix("192.0.2.0", "24").unwrap(), v4("192.0.2.0/24"));
    assert_eq!(parse_prefix("0.0.0.0", "0").unwrap(), v4("0.0.0.0/0"));
    assert_eq!(parse_prefix("2001:db8::", "32").unwrap(), IpQuery::V6);
    for (p, l) in [
        ("192.0.2.0", "33"),
        ("192.0.2.0", "+24"),
        ("192.0.2.0", ""),
        ("192.0.2.0", "0024"),
        ("192.0.2.1", "24"),
        ("192.0.2", "24"),
        ("2001:db8::", "129"),
        ("192.0.2.0-192.0.2.9", "24"),
    ] {
        let e = parse_prefix(p, l).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{p}/{l}");
    }
}

#[test]
fn entity_handles_name_registries_and_organisations() {
    assert_eq!(
        EntityHandle::parse("RIPE-NCC"),
        Some(EntityHandle::Registry(Rir::RipeNcc))
    );
    assert_eq!(
        EntityHandle::parse("arin"),
        Some(EntityHandle::Registry(Rir::Arin))
    );
    assert_eq!(
        EntityHandle::parse("A92319D5-APNIC"),
        Some(EntityHandle::Organisation(Rir::Apnic, "A92319D5"))
    );
    assert_eq!(
        EntityHandle::parse("ORG-NW1-RIPE"),
        Some(EntityHandle::Organisation(Rir::RipeNcc, "ORG-NW1"))
    );
    for unknown in ["", "-ARIN", "X-NCC", "A92319D5", "A92319D5-IANA"] {
        assert_eq!(EntityHandle::parse(unknown), None, "{unknown:?}");
    }
}

#[test]
fn networks_name_their_cidrs() {
    let urls = Urls::new("https://ipxfer.example/");
    let n = network_base(
        &urls,
        "ip/3.0.4.1",
        "3.0.4.0 - 3.0.8.255".parse().unwrap(),
        Rir::Arin,
    );
    assert_eq!(n["handle"], "3.0.4.0 - 3.0.8.255");
    assert_eq!(n["name"], "ARIN-3-0-4-0-22");
    assert_eq!(
        n["cidr0_cidrs"],
        json!([{"v4prefix": "3.0.4.0", "length": 22}, {"v4prefix": "3.0.8.0", "length": 24}])
    );
    assert_eq!(
        n["links"][0]["value"],
        "https://ipxfer.example/rdap/ip/3.0.4.1"
    );
    assert_eq!(
        n["links"][0]["href"],
        "https://ipxfer.example/rdap/ip/3.0.4.0/22"
    );
    assert_eq!(
        urls.entity("A B/C-ARIN"),
        "https://ipxfer.example/rdap/entity/A%20B%2FC-ARIN"
    );
}
