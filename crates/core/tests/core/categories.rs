//! The seeded case categories.

#[test]
fn the_seeded_categories_are_valid() {
    #[derive(serde::Deserialize)]
    struct Seed {
        categories: Vec<wangge_core::category::CategorySpec>,
    }
    let seed: Seed =
        serde_json::from_str(include_str!("../../../../data/categories.json")).unwrap();
    wangge_core::category::check(&seed.categories).unwrap();
    let drain = seed
        .categories
        .iter()
        .find(|c| c.name == "雨水井盖")
        .unwrap();
    assert_eq!(drain.department.as_deref(), Some("roads"));
    assert_eq!(
        drain.overall,
        wangge_core::calendar::Limit::CalendarHours(36)
    );
    assert_eq!(
        drain.steps.handling,
        Some(wangge_core::calendar::Limit::CalendarHours(6))
    );
    for kind in ["矛盾纠纷", "安全隐患", "民生诉求", "占道经营", "暴露垃圾"] {
        assert!(seed.categories.iter().any(|c| c.name == kind), "{kind}");
    }
}
