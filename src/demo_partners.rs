//! ~300 realistic alliance partners around Jiangmen for the demo, deterministic from a seed.

use diesel::Connection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::bootstrap::describe;
use crate::domain::Actor;
use crate::domain::org_units::Created;
use crate::domain::partner_kind::{PartnerCategory, PartnerStatus};
use crate::domain::partners::{self, NewPartner, Partner};
use crate::geo::LatLon;
use crate::http::state::AppState;

const STREETS: [&str; 10] =
    ["建设路", "港口路", "白沙大道", "胜利路", "迎宾大道", "东华路", "五邑路", "江华路", "天沙河路", "会城大道"];

fn name(category: PartnerCategory, rng: &mut StdRng, n: usize) -> String {
    let pick = |rng: &mut StdRng, list: &[&str]| list[rng.random_range(0..list.len())].to_owned();
    let street = pick(rng, &STREETS);
    match category {
        PartnerCategory::Supermarket => {
            format!(
                "{}({street}{}店)",
                pick(rng, &["华润万家", "大润发", "永辉超市", "美宜佳", "天虹超市", "百佳超市"]),
                n % 7 + 1
            )
        }
        PartnerCategory::Community => {
            format!("{street}{}", pick(rng, &["花园", "小区", "社区居委会", "雅苑", "新村", "华庭"]))
        }
        PartnerCategory::School => {
            format!(
                "{}{}",
                pick(rng, &["江门", "蓬江", "江海", "新会", "棠下", "杜阮"]),
                pick(rng, &["第一中学", "实验小学", "外国语学校", "英才培训中心", "艺术培训学校", "幼儿园"])
            )
        }
        PartnerCategory::GarmentWholesale => {
            format!("{street}{}", pick(rng, &["服装批发城", "布匹市场", "童装批发中心"]))
        }
        PartnerCategory::SeafoodWholesale => {
            format!("{street}{}", pick(rng, &["水产批发市场", "海鲜码头", "冻品批发中心"]))
        }
        PartnerCategory::BookkeepingAgency => format!(
            "江门{}{}",
            pick(rng, &["诚信", "德勤", "华信", "正和"]),
            pick(rng, &["财务咨询", "代理记账公司", "税务师事务所"])
        ),
        PartnerCategory::Other => format!("{street}{}", pick(rng, &["美容院", "大药房", "汽修厂", "物流园", "健身房"])),
    }
}

fn pain_points(category: PartnerCategory) -> Vec<String> {
    let list: &[&str] = match category {
        PartnerCategory::Supermarket => &["会员活跃度低", "收银高峰排队"],
        PartnerCategory::Community => &["老人担心电信诈骗", "缺少亲子活动场地"],
        PartnerCategory::School => &["家长缴费渠道分散", "课后托管需求"],
        PartnerCategory::GarmentWholesale | PartnerCategory::SeafoodWholesale => {
            &["档主进货资金周转紧", "收款码对账繁琐"]
        }
        PartnerCategory::BookkeepingAgency => &["小微客户开户难", "代发工资流程繁琐"],
        PartnerCategory::Other => &["客流不稳定"],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Seeds partners for each account manager inside the rough area of their sub-branch.
/// Returns each owner's new partners, for the visits seeded next.
pub async fn seed(
    state: &AppState,
    owners: &[(Actor, [f64; 4])],
    per_owner: usize,
) -> anyhow::Result<Vec<(Actor, Vec<Partner>)>> {
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let mut created = Vec::new();
    for (actor, [west, south, east, north]) in owners {
        let mut mine = Vec::new();
        for n in 0..per_owner {
            let category = PartnerCategory::ALL[rng.random_range(0..PartnerCategory::ALL.len())];
            let status = match rng.random_range(0..100) {
                0..35 => PartnerStatus::Prospect,
                35..55 => PartnerStatus::Contacted,
                55..68 => PartnerStatus::Negotiating,
                68..78 => PartnerStatus::Signed,
                78..94 => PartnerStatus::Active,
                94..97 => PartnerStatus::Paused,
                _ => PartnerStatus::Terminated,
            };
            let signed = matches!(status, PartnerStatus::Signed | PartnerStatus::Active | PartnerStatus::Paused);
            let input = NewPartner {
                id: None,
                name: name(category, &mut rng, n),
                category,
                status: Some(status),
                location: LatLon { lat: rng.random_range(*south..*north), lon: rng.random_range(*west..*east) },
                address: Some(format!(
                    "江门市{}{}号",
                    STREETS[rng.random_range(0..STREETS.len())],
                    rng.random_range(1..300)
                )),
                contact_name: Some(format!(
                    "{}{}",
                    ["陈", "李", "黄", "梁", "吴", "张"][rng.random_range(0..6)],
                    ["经理", "主任", "老板", "校长"][rng.random_range(0..4)]
                )),
                contact_phone: Some(format!("13{}{:08}", rng.random_range(5..10), rng.random_range(0..100_000_000))),
                audience_size: Some(rng.random_range(50..5000)),
                audience_unit: None,
                pain_points: Some(pain_points(category)),
                agreed_benefits: signed.then(|| vec!["持卡消费满减".to_owned(), "驻点金融服务日".to_owned()]),
                visit_cadence_days: None,
                geofence_m: None,
                owner_id: None,
                org_unit_id: None,
            };
            let owner = actor.clone();
            // Partners signed up over the past half year, so the map's coverage has history.
            let added = chrono::Utc::now() - chrono::Duration::days(rng.random_range(70..180));
            let made = state.db.run(move |conn| partners::create(conn, &owner, input)).await.map_err(describe)?;
            let (Created::New(mut p) | Created::Existing(mut p)) = made.partner;
            let id = p.id.to_string();
            state
                .db
                .run(move |conn| {
                    conn.transaction(|conn| {
                        let seq = crate::store::sync::next_seq(conn)?;
                        crate::store::partners::backdate(conn, &id, added.naive_utc(), seq)
                    })
                })
                .await?;
            p.created_at = added;
            mine.push(p);
        }
        created.push((actor.clone(), mine));
    }
    Ok(created)
}
