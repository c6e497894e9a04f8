//! The adapter contract: the same checks against the embedded adapters and the AWS
//! adapters (on moto, with the resources the SAM template creates).

use crate::moto;

use chrono::Utc;
use domain::case::{AcceptanceOutcome, Actor, Case, CaseStatus, NoticeKind, Role};
use domain::notice::Notification;
use ports::{
    AllocError, Allocator, BlobStore, CaseStore, Created, Notifier, OutMessage, Queue, StoreError,
};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

struct Adapters {
    store: Arc<dyn ports::Store>,
    queues: Arc<dyn Queue>,
    numbers: Arc<dyn Allocator>,
    /// The same numbers as another process sees them (DynamoDB: another allocator).
    other_numbers: Arc<dyn Allocator>,
    notifier: Arc<dyn Notifier>,
    blobs: Arc<dyn BlobStore>,
    appointments: Arc<dyn ports::AppointmentStore>,
    catalogue: Arc<dyn ports::CatalogueStore>,
    /// SQS visibility timeouts have one-second resolution.
    tick: Duration,
    /// DynamoDB: the stream relay, stopped with the adapters.
    _relay: Option<Relay>,
}

/// A background relay, stopped when dropped.
struct Relay(tokio::sync::watch::Sender<bool>);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

pub(crate) fn a_case(id: &str, owner: &str) -> Case {
    a_case_keyed(id, owner, &format!("key-{id}"))
}

/// A new case submitted under this idempotency key, at version 1 (for a newborn of its
/// own, picked by the id).
fn a_case_keyed(id: &str, owner: &str, key: &str) -> Case {
    let variant = id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    a_case_for(id, owner, key, variant)
}

/// A new case for newborn `variant` (its birth order and date).
fn a_case_for(id: &str, owner: &str, key: &str, variant: u32) -> Case {
    let mut f = testkit::family::form_a_born(&testkit::family::born_days_ago(
        1 + (variant / 9 % 20) as i64,
    ));
    f["newborn"]["birth_order"] = serde_json::json!(1 + variant % 9);
    f["newborn"]["multiple_birth"] = serde_json::json!(9);
    let form = domain::Form::parse(&f, domain::case::shanghai_now(Utc::now())).unwrap();
    let actor = Actor {
        sub: owner.into(),
        role: Role::Guardian,
        dept: None,
        scope: Default::default(),
    };
    let cal = domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays);
    let (mut c, _) = Case::new(
        id.into(),
        domain::case::shanghai_now(Utc::now()),
        owner.into(),
        actor,
        form,
        key.into(),
        "h".into(),
        &cal,
        None,
        domain::catalogue::Plan::builtin(),
    )
    .unwrap();
    c.prepare_commit(&cal, &domain::Settings::default());
    c
}

async fn drain(q: &dyn Queue, queue: &str) {
    for _ in 0..5 {
        for m in q.receive(queue, 10, Duration::from_secs(1)).await.unwrap() {
            q.ack(queue, &m.receipt).await.unwrap();
        }
    }
}

/// Cases: create with outbox, idempotency, versioned commits.
async fn cases_are_created_once_per_idempotency_key_and_change_only_on_their_version(
    a: &Adapters,
    tag: &str,
) {
    let id = format!("BC{tag}1");
    let c = a_case(&id, crate::helpers::FATHER_A);
    let out = vec![OutMessage {
        queue: "accept".into(),
        body: format!(r#"{{"kind":"step","case_id":"{id}","step":"acceptance"}}"#),
    }];
    assert!(matches!(
        a.store.create(&c, "scope-1", &out).await.unwrap(),
        Created::New
    ));
    let again = a_case_keyed(
        &format!("BC{tag}2"),
        crate::helpers::FATHER_A,
        c.idempotency_key(),
    );
    match a.store.create(&again, "scope-1", &[]).await.unwrap() {
        Created::Existing(e) => assert_eq!(e.case_id(), id, "same scope and key: the first case"),
        Created::New | Created::Duplicate { .. } => panic!("idempotency key ignored"),
    }
    let got = a.store.get(&id).await.unwrap().unwrap();
    assert_eq!(got, c);
    let mut next = got.clone();
    next.conclude_acceptance(
        AcceptanceOutcome::NotAccepted {
            reasons: vec!["不予受理".into()],
        },
        &Actor::system(domain::Dept::ServiceCenter),
        domain::case::shanghai_now(Utc::now()),
        &domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays),
    )
    .unwrap();
    assert_eq!(
        next.prepare_commit(&calendar(), &domain::Settings::default()),
        1
    );
    a.store.commit(&next, 1, &[]).await.unwrap();
    let mut stale = got.clone();
    stale.prepare_commit(&calendar(), &domain::Settings::default());
    assert!(
        matches!(
            a.store.commit(&stale, 1, &[]).await,
            Err(StoreError::Conflict(_))
        ),
        "a stale version loses"
    );
    assert_eq!(
        a.store.get(&id).await.unwrap().unwrap().status(),
        CaseStatus::NotAccepted
    );
    assert!(a.store.get("BC-none").await.unwrap().is_none());
    assert_eq!(
        a.store
            .by_person(crate::helpers::FATHER_A)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(a
        .store
        .by_person(crate::helpers::MOTHER_B)
        .await
        .unwrap()
        .is_empty());
    // Nothing is due for the SLA monitor yet; a look after the case sat still finds it.
    let now = Utc::now();
    let (due, _) = a.store.due_for_check(now, None, 10).await.unwrap();
    assert!(due.is_empty(), "nothing due yet");
    let later = now + domain::supervision::LOOK_AFTER * 2;
    let (due, _) = a.store.due_for_check(later, None, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let day = Utc::now();
    let (rows, _) = a
        .store
        .case_rows(
            day - chrono::Duration::hours(1),
            day + chrono::Duration::hours(1),
            None,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(a
        .store
        .open_tasks(domain::Dept::Police, None, None, 10)
        .await
        .unwrap()
        .0
        .is_empty());
}

/// The outbox message was delivered.
/// One newborn, one live case: a second case for the newborn is refused (naming the
/// first) until the first ends in a way that frees it.
async fn a_newborn_has_one_live_case_until_the_case_ends(a: &Adapters, tag: &str) {
    let variant = 4242 + tag.len() as u32;
    let first = a_case_for(
        &format!("BC{tag}N1"),
        crate::helpers::FATHER_A,
        "n-1",
        variant,
    );
    let second = a_case_for(
        &format!("BC{tag}N2"),
        crate::helpers::MOTHER_A,
        "n-2",
        variant,
    );
    assert!(matches!(
        a.store.create(&first, "scope-n1", &[]).await.unwrap(),
        Created::New
    ));
    match a.store.create(&second, "scope-n2", &[]).await.unwrap() {
        Created::Duplicate { case_id } => assert_eq!(case_id, first.case_id()),
        other => panic!("a second live case for one newborn: {other:?}"),
    }
    let mut ended = first.clone();
    ended
        .withdraw(
            "申请人撤回".into(),
            &Actor::system(domain::Dept::ServiceCenter),
            domain::case::shanghai_now(Utc::now()),
        )
        .unwrap();
    let v = ended.prepare_commit(&calendar(), &domain::Settings::default());
    a.store.commit(&ended, v, &[]).await.unwrap();
    // A later commit of the ended case does not touch the claim again.
    let mut later = a.store.get(first.case_id()).await.unwrap().unwrap();
    let v = later.prepare_commit(&calendar(), &domain::Settings::default());
    a.store.commit(&later, v, &[]).await.unwrap();
    assert!(
        matches!(
            a.store.create(&second, "scope-n2", &[]).await.unwrap(),
            Created::New
        ),
        "the withdrawn case freed the newborn"
    );
    let third = a_case_for(
        &format!("BC{tag}N3"),
        crate::helpers::FATHER_A,
        "n-3",
        variant,
    );
    match a.store.create(&third, "scope-n3", &[]).await.unwrap() {
        Created::Duplicate { case_id } => assert_eq!(case_id, second.case_id()),
        other => panic!("the claim was released twice: {other:?}"),
    }
}

/// Of concurrent applications for one newborn exactly one is created.
async fn of_concurrent_cases_for_one_newborn_exactly_one_is_created(a: &Adapters, tag: &str) {
    let variant = 777 + tag.len() as u32;
    let cases: Vec<Case> = (0..6)
        .map(|i| {
            a_case_for(
                &format!("BC{tag}C{i}"),
                crate::helpers::FATHER_A,
                &format!("c-{i}"),
                variant,
            )
        })
        .collect();
    let create = |i: usize| a.store.create(&cases[i], "scope-c", &[]);
    let (r0, r1, r2, r3, r4, r5) = tokio::join!(
        create(0),
        create(1),
        create(2),
        create(3),
        create(4),
        create(5)
    );
    let results = [r0, r1, r2, r3, r4, r5];
    let created = results
        .iter()
        .filter(|r| matches!(r, Ok(Created::New)))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Ok(Created::Duplicate { .. })))
        .count();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(created + refused, cases.len(), "{results:?}");
}

async fn a_message_committed_with_a_case_is_delivered(a: &Adapters, tag: &str) {
    let id = format!("BC{tag}1");
    let c = a_case(&id, crate::helpers::FATHER_A);
    let out = vec![OutMessage {
        queue: "accept".into(),
        body: format!(r#"{{"kind":"step","case_id":"{id}","step":"acceptance"}}"#),
    }];
    a.store.create(&c, "scope-1", &out).await.unwrap();

    // Embedded: in the commit's transaction; DynamoDB: relayed from the table's stream.
    let mut got = vec![];
    for _ in 0..100 {
        got = a
            .queues
            .receive("accept", 10, Duration::from_secs(5))
            .await
            .unwrap();
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 1);
    assert!(got[0].body.contains(&id));
    a.queues.ack("accept", &got[0].receipt).await.unwrap();
}

/// Queues: visibility, redelivery with a growing receive count, DLQ after the maximum, redrive.
async fn a_failing_message_is_received_five_times_then_dead_lettered_and_can_be_redriven(
    a: &Adapters,
    _tag: &str,
) {
    drain(a.queues.as_ref(), "notify").await;
    a.queues.send("notify", "poison").await.unwrap();
    let mut counts = vec![];
    for _ in 0..20 {
        let got = a.queues.receive("notify", 10, a.tick).await.unwrap();
        if let Some(m) = got.first() {
            counts.push(m.receive_count);
            a.queues
                .retry_later("notify", &m.receipt, a.tick, "never works")
                .await
                .unwrap();
        }
        if !a.queues.dead_letters("notify").await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(a.tick + Duration::from_millis(50)).await;
    }
    assert_eq!(
        counts,
        vec![1, 2, 3, 4, 5],
        "received at most maxReceiveCount times"
    );
    let dead = a.queues.dead_letters("notify").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(a.queues.redrive("notify", None).await.unwrap(), 1);
    let back = a
        .queues
        .receive("notify", 10, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    a.queues.ack("notify", &back[0].receipt).await.unwrap();
}

/// Allocation: one number per owner, never shared, even concurrently.
async fn each_owner_gets_one_number_and_no_two_owners_share_one(a: &Adapters, _tag: &str) {
    let mut handles = vec![];
    for i in 0..20 {
        let n = a.numbers.clone();
        handles.push(tokio::spawn(async move {
            n.allocate("ns", &format!("owner-{}", i % 10), 1000)
                .await
                .unwrap()
        }));
    }
    let mut by_owner = std::collections::HashMap::new();
    for (i, h) in handles.into_iter().enumerate() {
        let v = h.await.unwrap();
        let prev = by_owner.insert(i % 10, v);
        assert!(prev.is_none() || prev == Some(v), "one owner, one number");
    }
    let distinct: HashSet<u64> = by_owner.values().copied().collect();
    assert_eq!(distinct.len(), 10, "ten owners, ten numbers");
    assert!(matches!(a.numbers.allocate("tiny", "x", 1).await, Ok(1)));
    assert!(matches!(
        a.numbers.allocate("tiny", "y", 1).await,
        Err(AllocError::Exhausted(_))
    ));
}

/// A step's numbers: reserved, then taken by the commit that records them. Two cases that
/// reserved the same number cannot both commit it: the second commit is a conflict, and
/// its retry reserves the next number. A lasting owner (the newborn) keeps its number for
/// a later case; the case's own numbers leave no owner record behind.
async fn numbers_reserved_for_a_commit_are_taken_by_that_commit_alone(a: &Adapters, tag: &str) {
    let settings = domain::Settings::default();
    let ns = format!("card-{tag}");
    let ask = |owner: &str, lasting: bool| ports::NumberAsk {
        namespace: ns.clone(),
        owner: owner.to_string(),
        max: 99,
        lasting,
        from_block: false,
    };
    let mut cases = vec![];
    for i in 1..=2 {
        let c = a_case(&format!("BC{tag}N{i}"), crate::helpers::FATHER_A);
        assert!(matches!(
            a.store.create(&c, "numbers", &[]).await.unwrap(),
            Created::New
        ));
        cases.push(c);
    }
    let (mut one, mut two) = (cases[0].clone(), cases[1].clone());
    let r1 = a
        .numbers
        .reserve(&[ask(one.case_id(), false)])
        .await
        .unwrap();
    let r2 = a
        .numbers
        .reserve(&[ask(two.case_id(), false)])
        .await
        .unwrap();
    let v = one.prepare_commit(&calendar(), &settings);
    one.take_numbers(r1.takes.clone());
    a.store.commit(&one, v, &[]).await.unwrap();
    let v = two.prepare_commit(&calendar(), &settings);
    two.take_numbers(r2.takes.clone());
    let landed = a.store.commit(&two, v, &[]).await;
    let second = if r2.numbers == r1.numbers {
        // Both read the same counter: the first commit took the number.
        assert!(
            matches!(landed, Err(StoreError::Conflict(_))),
            "a number already taken is a conflict: {landed:?}"
        );
        let mut again = a.store.get(two.case_id()).await.unwrap().unwrap();
        let r = a
            .numbers
            .reserve(&[ask(two.case_id(), false)])
            .await
            .unwrap();
        let v = again.prepare_commit(&calendar(), &settings);
        again.take_numbers(r.takes);
        a.store.commit(&again, v, &[]).await.unwrap();
        r.numbers[0]
    } else {
        // This store took the numbers at once.
        landed.unwrap();
        r2.numbers[0]
    };
    assert_eq!(r1.numbers, vec![1]);
    assert_eq!(second, 2, "the retry gets the next number, none is lost");
    // Nothing committed with a case, nothing taken: the counter is where it was.
    let r = a.numbers.reserve(&[ask("another", false)]).await.unwrap();
    assert_eq!(r.numbers, vec![3]);

    // A lasting owner's number, taken by one case's commit, is the same for the next case.
    let newborn = format!("newborn-{tag}");
    let mut c = a.store.get(one.case_id()).await.unwrap().unwrap();
    let first = a.numbers.reserve(&[ask(&newborn, true)]).await.unwrap();
    let v = c.prepare_commit(&calendar(), &settings);
    c.take_numbers(first.takes);
    a.store.commit(&c, v, &[]).await.unwrap();
    let later = a.numbers.reserve(&[ask(&newborn, true)]).await.unwrap();
    assert_eq!(later.numbers, first.numbers, "one newborn, one number");
    assert!(
        later.takes.is_empty(),
        "a number already held takes nothing"
    );
}

/// Numbers that may go unused (parcels, pick-up codes, cards) are never shared between
/// processes nor written by the commit, come out in the order asked beside numbers that
/// must have no gaps, and stop at the namespace's largest.
async fn numbers_that_may_go_unused_are_never_shared(a: &Adapters, tag: &str) {
    let ask = |ns: &str, owner: &str, max: u64, gapless: bool| ports::NumberAsk {
        namespace: ns.to_string(),
        owner: owner.to_string(),
        max,
        lasting: gapless,
        from_block: !gapless,
    };
    let parcels = format!("parcel-{tag}");
    let mut seen = vec![];
    for (numbers, owner) in [
        (&a.numbers, "c1"),
        (&a.other_numbers, "c2"),
        (&a.numbers, "c3"),
        (&a.other_numbers, "c4"),
    ] {
        let r = numbers
            .reserve(&[ask(&parcels, owner, 1000, false)])
            .await
            .unwrap();
        assert!(r.takes.is_empty(), "nothing for the commit to write: {r:?}");
        seen.extend(r.numbers);
    }
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), 4, "never shared: {seen:?}");
    assert!(seen.iter().all(|n| (1..=1000).contains(n)), "{seen:?}");

    // Beside a number that must have no gaps: in the order asked.
    let gapless = format!("cert-{tag}");
    let r = a
        .numbers
        .reserve(&[
            ask(&parcels, "c5", 1000, false),
            ask(&gapless, "newborn", 99, true),
            ask(&parcels, "c6", 1000, false),
        ])
        .await
        .unwrap();
    assert_eq!(r.numbers.len(), 3);
    assert_eq!(r.numbers[1], 1, "the gapless namespace's first number");
    assert!(!seen.contains(&r.numbers[0]) && !seen.contains(&r.numbers[2]));
    assert_ne!(r.numbers[0], r.numbers[2]);
    assert!(r.takes.iter().all(|t| match t {
        domain::steps::NumberTake::Counter { namespace, .. }
        | domain::steps::NumberTake::Owner { namespace, .. } => namespace == &gapless,
    }));

    // A namespace of three: three numbers, then none, whichever process asks.
    let small = format!("small-{tag}");
    let mut got = vec![];
    for owner in ["s1", "s2", "s3"] {
        let r = a
            .numbers
            .reserve(&[ask(&small, owner, 3, false)])
            .await
            .unwrap();
        got.extend(r.numbers);
    }
    assert_eq!(got, vec![1, 2, 3]);
    for numbers in [&a.numbers, &a.other_numbers] {
        let r = numbers.reserve(&[ask(&small, "s4", 3, false)]).await;
        assert!(matches!(r, Err(AllocError::Exhausted(_))), "{r:?}");
    }
}

/// A newborn's certificate number comes from a block (the province's counter is not in
/// any case's commit) and is still the newborn's alone: the commit writes only the owner's
/// record, a later case for the same newborn gets the same number from any process, and
/// of two processes that drew different numbers for one newborn only the first commit
/// lands; the other's retry gets the first's number.
async fn a_newborns_number_from_a_block_is_kept_for_it(a: &Adapters, tag: &str) {
    let settings = domain::Settings::default();
    let ns = format!("certificate-{tag}");
    let ask = |owner: &str| ports::NumberAsk {
        namespace: ns.clone(),
        owner: owner.to_string(),
        max: 999,
        lasting: true,
        from_block: true,
    };
    let mut cases = vec![];
    for i in 1..=2 {
        let c = a_case(&format!("BK{tag}N{i}"), crate::helpers::FATHER_A);
        assert!(matches!(
            a.store.create(&c, "numbers", &[]).await.unwrap(),
            Created::New
        ));
        cases.push(c);
    }
    let (mut one, mut two) = (cases[0].clone(), cases[1].clone());
    let newborn = format!("newborn-{tag}");
    let r1 = a.numbers.reserve(&[ask(&newborn)]).await.unwrap();
    let r2 = a.other_numbers.reserve(&[ask(&newborn)]).await.unwrap();
    assert!(
        r1.takes
            .iter()
            .all(|t| matches!(t, domain::steps::NumberTake::Owner { .. })),
        "no counter in the commit: {r1:?}"
    );
    let v = one.prepare_commit(&calendar(), &settings);
    one.take_numbers(r1.takes.clone());
    a.store.commit(&one, v, &[]).await.unwrap();
    let v = two.prepare_commit(&calendar(), &settings);
    two.take_numbers(r2.takes.clone());
    let landed = a.store.commit(&two, v, &[]).await;
    if r2.numbers != r1.numbers {
        assert!(
            matches!(landed, Err(StoreError::Conflict(_))),
            "a second number for one newborn never lands: {landed:?}"
        );
    }
    for numbers in [&a.numbers, &a.other_numbers] {
        let again = numbers.reserve(&[ask(&newborn)]).await.unwrap();
        assert_eq!(again.numbers, r1.numbers, "one newborn, one number");
        assert!(again.takes.is_empty(), "{again:?}");
    }
    // Other newborns, from either process: never a number already drawn.
    let mut seen: HashSet<u64> = r1.numbers.iter().chain(&r2.numbers).copied().collect();
    for (i, numbers) in [&a.numbers, &a.other_numbers, &a.numbers]
        .iter()
        .enumerate()
    {
        let r = numbers
            .reserve(&[ask(&format!("{newborn}-{i}"))])
            .await
            .unwrap();
        assert!(seen.insert(r.numbers[0]), "{r:?} drawn twice");
    }
}

/// The embedded store's allocator takes numbers at once; a commit carrying numbers
/// reserved elsewhere (another store's allocator) is refused, not silently dropped.
#[tokio::test]
async fn the_embedded_store_refuses_numbers_reserved_by_another_stores_allocator() {
    let (_dir, a) = embedded();
    let c = a_case("BCEXTAKE1", crate::helpers::FATHER_A);
    a.store.create(&c, "takes", &[]).await.unwrap();
    let mut next = a.store.get(c.case_id()).await.unwrap().unwrap();
    let v = next.prepare_commit(&calendar(), &domain::Settings::default());
    next.take_numbers(vec![domain::steps::NumberTake::Counter {
        namespace: "card".into(),
        from: 0,
        to: 1,
    }]);
    let r = a.store.commit(&next, v, &[]).await;
    assert!(matches!(r, Err(StoreError::Corrupt(_))), "{r:?}");
    assert_eq!(
        a.store.get(c.case_id()).await.unwrap().unwrap().version(),
        v
    );
}

/// Notifications are idempotent by sequence.
async fn a_notification_is_recorded_once_per_sequence(a: &Adapters, tag: &str) {
    let id = format!("BC{tag}1");

    let n = Notification {
        case_id: id.clone(),
        seq: 1,
        kind: NoticeKind::Accepted,
        title: "t".into(),
        body: "b".into(),
        phone: "13800000000".into(),
    };
    a.notifier.send(&n, None).await.unwrap();
    a.notifier.send(&n, None).await.unwrap();
    assert_eq!(a.notifier.sent(&id).await.unwrap().len(), 1);
}

/// The daily caps: beyond the case's or the phone's share of a day a message is recorded
/// held (once, however often it is redelivered), and the phone is owed one summary.
async fn the_daily_caps_hold_a_familys_messages_for_one_summary(a: &Adapters, tag: &str) {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let caps = ports::DailyCaps {
        day,
        per_case: 3,
        per_phone: 4,
    };
    let phone = format!("1390000{:04}", tag.len() * 7 + tag.as_bytes()[0] as usize);
    let note = |case: &str, seq: u32| Notification {
        case_id: case.to_string(),
        seq,
        kind: NoticeKind::Accepted,
        title: "t".into(),
        body: "b".into(),
        phone: phone.clone(),
    };
    let (one, two) = (format!("CAP{tag}1"), format!("CAP{tag}2"));
    for seq in 1..=4 {
        // Each twice: a redelivery is neither counted nor held again.
        a.notifier.send(&note(&one, seq), Some(caps)).await.unwrap();
        a.notifier.send(&note(&one, seq), Some(caps)).await.unwrap();
    }
    let channels =
        |d: Vec<ports::Delivered>| -> Vec<String> { d.into_iter().map(|d| d.channel).collect() };
    let first = channels(a.notifier.sent(&one).await.unwrap());
    assert_eq!(first.len(), 4);
    assert_eq!(
        first.iter().filter(|c| *c == ports::HELD).count(),
        1,
        "{first:?}"
    );
    assert_eq!(first[3], ports::HELD, "the fourth of a case is held");
    // The phone had 3; a second case gets one more, then the phone's cap holds.
    for seq in 1..=2 {
        a.notifier.send(&note(&two, seq), Some(caps)).await.unwrap();
    }
    let second = channels(a.notifier.sent(&two).await.unwrap());
    assert_ne!(second[0], ports::HELD, "{second:?}");
    assert_eq!(second[1], ports::HELD, "{second:?}");
    // Uncapped (an official's alert) goes out whatever the count.
    let alert = Notification {
        kind: NoticeKind::BreakGlassAlert,
        ..note(&format!("CAP{tag}3"), 1)
    };
    a.notifier.send(&alert, None).await.unwrap();
    assert_ne!(
        a.notifier.sent(&alert.case_id).await.unwrap()[0].channel,
        ports::HELD
    );
    let held = a.notifier.held_on(day).await.unwrap();
    let mine: Vec<_> = held.iter().filter(|h| h.phone == phone).collect();
    assert_eq!(mine.len(), 1, "{held:?}");
    assert_eq!(mine[0].count, 2);
    a.notifier.summarised(mine[0]).await.unwrap();
    let after = a.notifier.held_on(day).await.unwrap();
    assert!(after.iter().all(|h| h.phone != phone), "{after:?}");
    // The next day counts afresh.
    let next = ports::DailyCaps {
        day: day.succ_opt().unwrap(),
        ..caps
    };
    a.notifier.send(&note(&one, 5), Some(next)).await.unwrap();
    let last = a.notifier.sent(&one).await.unwrap();
    assert_ne!(last[4].channel, ports::HELD);
}

/// Blobs: round trip, write-once archives.
async fn blobs_round_trip_archives_are_write_once_and_uploads_get_a_url(a: &Adapters, _tag: &str) {
    a.blobs
        .put("materials/x/m1", b"%PDF-1", "application/pdf")
        .await
        .unwrap();
    assert_eq!(
        a.blobs.get("materials/x/m1").await.unwrap().unwrap(),
        b"%PDF-1"
    );
    assert!(a.blobs.get("materials/x/none").await.unwrap().is_none());
    let seen = a.blobs.inspect("materials/x/m1", 4).await.unwrap().unwrap();
    assert_eq!(seen.size, 6);
    assert_eq!(seen.head, b"%PDF");
    assert_eq!(seen.sha256, application::service::sha256_hex(b"%PDF-1"));
    assert!(a
        .blobs
        .inspect("materials/x/none", 4)
        .await
        .unwrap()
        .is_none());
    a.blobs
        .put_once("archives/x/manifest.json", b"{}", "application/json")
        .await
        .unwrap();
    a.blobs
        .put_once("archives/x/manifest.json", b"{}", "application/json")
        .await
        .unwrap();
    assert!(a
        .blobs
        .put_once("archives/x/manifest.json", b"{\"x\":1}", "application/json")
        .await
        .is_err());
    // An upload URL names its key and says which headers the PUT must carry.
    let pin = ports::UploadPin {
        content_type: "image/png".into(),
        size: 10,
        sha256: Some("ab".repeat(32)),
    };
    let up = a
        .blobs
        .upload_url(
            "materials/x/m2",
            &pin,
            Utc::now() + chrono::Duration::minutes(5),
            "http://127.0.0.1:1",
        )
        .await
        .unwrap();
    assert!(up.url.contains("materials/x/m2"));
    assert_eq!(up.headers["content-type"], "image/png");
}

/// An upload through a presigned URL pinned to its SHA-256 is confirmed from the
/// checksum S3 verified and kept, and its first bytes: S3 serves a range, not the whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_pinned_to_its_checksum_is_inspected_without_reading_it_whole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("inspect");
    let resources = aws::Resources::from_outputs(&outputs).unwrap();
    let aws = aws::Aws::new(&m.sdk_config().await, &resources, 5);
    let bytes: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i % 251) as u8))
        .collect();
    let pin = ports::UploadPin {
        content_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: Some(application::service::sha256_hex(&bytes)),
    };
    let up = aws
        .blobs
        .upload_url(
            "materials/x/big",
            &pin,
            Utc::now() + chrono::Duration::minutes(5),
            "http://127.0.0.1:1",
        )
        .await
        .unwrap();
    let headers: Vec<(&str, &str)> = up
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Other bytes of the same size under the pinned checksum: refused.
    let mut other = bytes.clone();
    other[100] ^= 1;
    let r = testkit::http::Http::default()
        .call("PUT", &up.url, None, &headers, bytes::Bytes::from(other))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = testkit::http::Http::default()
        .call(
            "PUT",
            &up.url,
            None,
            &headers,
            bytes::Bytes::from(bytes.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let before = aws.usage.snapshot();
    let seen = aws
        .blobs
        .inspect("materials/x/big", 16)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.size, bytes.len() as u64);
    assert_eq!(seen.sha256, application::service::sha256_hex(&bytes));
    assert_eq!(seen.head, &bytes[..16]);
    assert_eq!(seen.tail, &bytes[bytes.len() - ports::TAIL_BYTES..]);
    let after = aws.usage.snapshot();
    let count = |k: &str| {
        let of = |s: &[(&'static str, u64)]| s.iter().find(|(x, _)| *x == k).unwrap().1;
        of(&after) - of(&before)
    };
    assert_eq!(
        (
            count("s3.HeadObject"),
            count("s3.GetObject.range"),
            count("s3.GetObject")
        ),
        (1, 2, 0),
        "one HEAD, a range at each end, no whole read"
    );
}

/// The embedded adapters over a fresh data directory.
fn embedded() -> (tempfile::TempDir, Adapters) {
    let dir = tempfile::tempdir().unwrap();
    let e =
        embedded::Embedded::open(dir.path(), embedded::Durability::Normal, 5, b"secret").unwrap();
    let a = Adapters {
        store: e.store.clone(),
        queues: e.queues.clone(),
        numbers: e.numbers.clone(),
        other_numbers: e.numbers.clone(),
        notifier: e.notifier.clone(),
        blobs: e.blobs.clone(),
        appointments: e.appointments.clone(),
        catalogue: e.catalogue.clone(),
        tick: Duration::from_millis(200),
        _relay: None,
    };
    (dir, a)
}

/// The AWS adapters over the resources of the SAM template, deployed to a fresh moto.
async fn on_moto() -> (moto::Moto, Adapters) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("contract");
    let resources = aws::Resources::from_outputs(&outputs).unwrap();
    let aws = aws::Aws::new(&m.sdk_config().await, &resources, 5);
    let a = Adapters {
        store: aws.store.clone(),
        queues: aws.queues.clone(),
        numbers: aws.numbers.clone(),
        // Another process: its own allocator, its own blocks.
        other_numbers: aws::Aws::new(&m.sdk_config().await, &resources, 5)
            .numbers
            .clone(),
        notifier: aws.notifier.clone(),
        blobs: aws.blobs.clone(),
        appointments: aws.appointments.clone(),
        catalogue: aws.catalogue.clone(),
        tick: Duration::from_secs(1),
        _relay: None,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(onething::pollers::stream_relay(
        aws.stream_reader(),
        aws.queues.clone(),
        stopped,
    ));
    let a = Adapters {
        _relay: Some(Relay(stop)),
        ..a
    };
    (m, a)
}

/// A POST's idempotency key: reserved once, its answer replayed, another request under it
/// refused, a failed request's reservation released, a dead reservation taken over, an
/// expired record reused.
async fn a_post_answer_is_kept_under_its_idempotency_key(a: &Adapters, tag: &str) {
    use ports::{Remembered, StoredResponse};
    let (scope, key) = (format!("scope-{tag}"), format!("key-{tag}"));
    let now = Utc::now();
    let st = &a.store;
    assert_eq!(
        st.remember(&scope, &key, "h1", now).await.unwrap(),
        Remembered::New
    );
    assert_eq!(
        st.remember(&scope, &key, "h1", now).await.unwrap(),
        Remembered::InFlight
    );
    assert_eq!(
        st.remember(&scope, &key, "h2", now).await.unwrap(),
        Remembered::Mismatch
    );
    let answer = StoredResponse {
        status: 201,
        body: "{\"ok\":true}".into(),
    };
    let later = now + chrono::Duration::hours(24);
    st.keep_response(&scope, &key, &answer, later)
        .await
        .unwrap();
    assert_eq!(
        st.remember(&scope, &key, "h1", now).await.unwrap(),
        Remembered::Replay(answer.clone())
    );
    // A kept answer is not released by a late failure report.
    st.forget(&scope, &key).await.unwrap();
    assert!(matches!(
        st.remember(&scope, &key, "h1", now).await.unwrap(),
        Remembered::Replay(_)
    ));
    // After it expires, the key is free again.
    let after = later + chrono::Duration::seconds(5);
    assert_eq!(
        st.remember(&scope, &key, "h3", after).await.unwrap(),
        Remembered::New
    );
    // A failed request's reservation is released; a dead one is taken over.
    let k2 = format!("key2-{tag}");
    assert_eq!(
        st.remember(&scope, &k2, "h1", now).await.unwrap(),
        Remembered::New
    );
    st.forget(&scope, &k2).await.unwrap();
    assert_eq!(
        st.remember(&scope, &k2, "h1", now).await.unwrap(),
        Remembered::New
    );
    let minutes = now + chrono::Duration::minutes(2);
    assert_eq!(
        st.remember(&scope, &k2, "h1", minutes).await.unwrap(),
        Remembered::New
    );
    // Scopes are separate.
    assert_eq!(
        st.remember("other", &key, "h9", now).await.unwrap(),
        Remembered::New
    );
}

/// The feedback inboxes find the cases with a complaint routed to the department, and
/// not the others.
async fn cases_with_feedback_are_found_for_the_department(a: &Adapters, tag: &str) {
    let with = a_case(&format!("BC{tag}FB1"), crate::helpers::FATHER_A);
    let without = a_case(&format!("BC{tag}FB2"), crate::helpers::FATHER_A);
    for c in [&with, &without] {
        assert!(matches!(
            a.store.create(c, "fb", &[]).await.unwrap(),
            Created::New
        ));
    }
    let mut c = a.store.get(with.case_id()).await.unwrap().unwrap();
    let cal = domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays);
    let now = domain::case::shanghai_now(Utc::now());
    let guardian = Actor {
        sub: crate::helpers::FATHER_A.into(),
        role: Role::Guardian,
        dept: None,
        scope: Default::default(),
    };
    let step = Some(domain::Step::Acceptance);
    c.complain(
        "CP1".into(),
        "慢".into(),
        step,
        &guardian,
        now,
        &cal,
        &Default::default(),
    )
    .unwrap();
    let v = c.prepare_commit(&cal, &domain::Settings::default());
    a.store.commit(&c, v, &[]).await.unwrap();
    let found = a
        .store
        .feedback_entries(domain::Dept::ServiceCenter, None, Some(true))
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|e| e.item.case_id.as_str()).collect();
    assert!(ids.contains(&with.case_id()), "{ids:?}");
    assert!(!ids.contains(&without.case_id()), "{ids:?}");
    let region = with.home_region();
    let here = a
        .store
        .feedback_entries(domain::Dept::ServiceCenter, Some(&region[..4]), None)
        .await
        .unwrap();
    assert_eq!(here.len(), found.len(), "the case's own region finds it");
    let elsewhere = a
        .store
        .feedback_entries(domain::Dept::ServiceCenter, Some("99"), None)
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "another region does not");
    let police = a
        .store
        .feedback_entries(domain::Dept::Police, None, None)
        .await
        .unwrap();
    assert!(police.iter().all(|e| e.item.case_id != with.case_id()));

    // Answered, the complaint is closed: found among the closed, no longer among the open.
    let officer = Actor {
        sub: "officer-fb".into(),
        role: Role::DeptOfficer,
        dept: Some(domain::Dept::ServiceCenter),
        scope: Default::default(),
    };
    let mut c = a.store.get(with.case_id()).await.unwrap().unwrap();
    c.answer_complaint("CP1", "已处理".into(), &officer, now)
        .unwrap();
    let v = c.prepare_commit(&cal, &domain::Settings::default());
    a.store.commit(&c, v, &[]).await.unwrap();
    let mine = |entries: Vec<domain::projection::FeedbackEntry>| {
        entries
            .into_iter()
            .filter(|e| e.item.case_id == with.case_id())
            .map(|e| e.item.status.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let dept = domain::Dept::ServiceCenter;
    let open = a.store.feedback_entries(dept, None, Some(true)).await;
    let closed = a.store.feedback_entries(dept, None, Some(false)).await;
    let all = a.store.feedback_entries(dept, None, None).await;
    assert_eq!(mine(open.unwrap()), Vec::<String>::new());
    assert_eq!(mine(closed.unwrap()), vec!["closed".to_string()]);
    assert_eq!(mine(all.unwrap()), vec!["closed".to_string()]);
}

fn calendar() -> domain::Calendar {
    domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays)
}

/// Every counter of these cases' tallies, summed.
fn summed(cases: &[&Case]) -> std::collections::BTreeMap<String, i64> {
    let mut t = std::collections::BTreeMap::new();
    for c in cases {
        for (k, v) in c.tally(&calendar()) {
            *t.entry(k).or_insert(0) += v;
        }
    }
    t.retain(|_, v| *v != 0);
    t
}

/// What the store's aggregates hold for these months, as tally keys.
async fn stored(a: &Adapters, months: &[String]) -> std::collections::BTreeMap<String, i64> {
    let mut t = std::collections::BTreeMap::new();
    for cell in a.store.tallies(months, None).await.unwrap() {
        for (f, v) in cell.counters {
            if v != 0 {
                t.insert(
                    format!("{}|{}|{}|{f}", cell.month, cell.county, cell.unit),
                    v,
                );
            }
        }
    }
    t
}

/// The aggregates are the sum of what the cases contribute, after creation, after a
/// change and after a lost race; the per-case rows page through every case once.
async fn the_aggregates_follow_every_commit_and_rows_page_once(a: &Adapters, tag: &str) {
    let one = a_case(&format!("BC{tag}AG1"), crate::helpers::FATHER_A);
    let two = a_case(&format!("BC{tag}AG2"), crate::helpers::MOTHER_B);
    for c in [&one, &two] {
        assert!(matches!(
            a.store.create(c, "agg", &[]).await.unwrap(),
            Created::New
        ));
    }
    let months = vec![domain::projection::month_of(one.submitted_at())];
    assert_eq!(stored(a, &months).await, summed(&[&one, &two]));
    let got = a.store.get(one.case_id()).await.unwrap().unwrap();
    let mut next = got.clone();
    next.conclude_acceptance(
        AcceptanceOutcome::NotAccepted {
            reasons: vec!["不予受理".into()],
        },
        &Actor::system(domain::Dept::ServiceCenter),
        domain::case::shanghai_now(Utc::now()),
        &calendar(),
    )
    .unwrap();
    let v = next.prepare_commit(&calendar(), &domain::Settings::default());
    a.store.commit(&next, v, &[]).await.unwrap();
    assert_eq!(stored(a, &months).await, summed(&[&next, &two]));
    assert_ne!(
        summed(&[&next]),
        summed(&[&one]),
        "the change moved counters"
    );
    let mut stale = got.clone();
    let v = stale.prepare_commit(&calendar(), &domain::Settings::default());
    assert!(a.store.commit(&stale, v, &[]).await.is_err());
    assert_eq!(
        stored(a, &months).await,
        summed(&[&next, &two]),
        "a lost race adds nothing"
    );
    let day = Utc::now();
    let (from, to) = (
        day - chrono::Duration::hours(1),
        day + chrono::Duration::hours(1),
    );
    let (first, cursor) = a.store.case_rows(from, to, None, None, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let cursor = cursor.expect("a second page");
    let (second, end) = a
        .store
        .case_rows(from, to, None, Some(&cursor), 1)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert!(end.is_none(), "two rows, two pages");
    let mut ids = vec![first[0].case_id.clone(), second[0].case_id.clone()];
    ids.sort();
    assert_eq!(
        ids,
        vec![one.case_id().to_string(), two.case_id().to_string()]
    );
    let (none, _) = a
        .store
        .case_rows(from, to, Some("99"), None, 10)
        .await
        .unwrap();
    assert!(none.is_empty(), "rows are filtered by region");
}

/// Concurrent bookings never overbook a slot; a guardian holds one active appointment per
/// purpose; a cancellation frees the place (and again changes nothing); the site's day
/// and the guardian's list show them.
async fn a_slot_is_never_overbooked_and_cancelling_frees_it(a: &Adapters, tag: &str) {
    use domain::appointment::{Appointment, AppointmentStatus, Purpose};
    use ports::Booking;
    let start = chrono::DateTime::parse_from_rfc3339("2031-03-04T09:30:00+08:00").unwrap();
    let appt = |i: usize, purpose: Purpose| Appointment {
        appointment_id: format!("AP{tag}{i:03}{}", purpose.as_str()),
        code: format!("{i:06}"),
        guardian: format!("guardian-{tag}-{i}"),
        phone: None,
        site_id: format!("SITE{tag}"),
        start,
        end: start + chrono::Duration::minutes(30),
        purpose,
        case_id: None,
        status: AppointmentStatus::Active,
        created_at: start - chrono::Duration::days(3),
        cancelled_at: None,
        reminded: false,
    };
    let mut tries = vec![];
    for i in 0..12 {
        let (store, x) = (a.appointments.clone(), appt(i, Purpose::Apply));
        tries.push(tokio::spawn(
            async move { store.book(&x, 5).await.unwrap() },
        ));
    }
    let mut booked = 0;
    for t in tries {
        match t.await.unwrap() {
            Booking::Booked => booked += 1,
            Booking::SlotFull => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(booked, 5, "exactly the capacity");
    let day = start.date_naive();
    let site = format!("SITE{tag}");
    let listed = a.appointments.at_site(&site, day).await.unwrap();
    let active: Vec<&Appointment> = listed.iter().filter(|x| x.is_active()).collect();
    assert_eq!(active.len(), 5);
    // One per guardian and purpose.
    let holder = active[0].clone();
    let mut second = holder.clone();
    second.appointment_id = format!("AP{tag}again");
    match a.appointments.book(&second, 50).await.unwrap() {
        Booking::AlreadyBooked(x) => assert_eq!(x.appointment_id, holder.appointment_id),
        other => panic!("{other:?}"),
    }
    // Cancel: the place is free for someone else; a second cancel is the same.
    let at = start - chrono::Duration::days(1);
    let c = a
        .appointments
        .cancel(&holder.appointment_id, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, AppointmentStatus::Cancelled);
    let again = a
        .appointments
        .cancel(&holder.appointment_id, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, c);
    assert_eq!(
        a.appointments
            .book(&appt(40, Purpose::Apply), 5)
            .await
            .unwrap(),
        Booking::Booked
    );
    assert_eq!(
        a.appointments
            .book(&appt(41, Purpose::Apply), 5)
            .await
            .unwrap(),
        Booking::SlotFull
    );
    // The guardian may book again after cancelling.
    let mut renewed = holder.clone();
    renewed.appointment_id = format!("AP{tag}renewed");
    renewed.start = start + chrono::Duration::minutes(30);
    assert_eq!(
        a.appointments.book(&renewed, 5).await.unwrap(),
        Booking::Booked
    );
    let mine = a.appointments.of_guardian(&holder.guardian).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine[0].start < mine[1].start);
    a.appointments
        .mark_reminded(&renewed.appointment_id)
        .await
        .unwrap();
    let r = a
        .appointments
        .appointment(&renewed.appointment_id)
        .await
        .unwrap()
        .unwrap();
    assert!(r.reminded && r.is_active());
    assert!(a.appointments.cancel("APnone", at).await.unwrap().is_none());
}

/// The catalogue's versions: none stored at first (the built-in one, 1, is in force);
/// each apply must name the next version, so two operators applying at once make one
/// version each, never the same one twice; history keeps every version, oldest first.
async fn catalogue_versions_are_taken_in_turn_and_kept(a: &Adapters, _tag: &str) {
    use domain::catalogue::{Catalogue, Version};
    assert!(a.catalogue.current_catalogue().await.unwrap().is_none());
    assert!(a.catalogue.catalogue_history().await.unwrap().is_empty());
    let version = |n: u32, days: u32| {
        let mut c = Catalogue::builtin();
        c.bundles[0].promise_working_days = days;
        Version {
            version: n,
            applied_at: format!("2026-12-0{n}T09:00:00+08:00"),
            applied_by: "ops".into(),
            catalogue: c,
        }
    };
    let skipped = a.catalogue.apply_catalogue(&version(3, 5)).await;
    assert!(
        matches!(skipped, Err(ports::StoreError::Conflict(_))),
        "{skipped:?}"
    );
    a.catalogue.apply_catalogue(&version(2, 5)).await.unwrap();
    let twice = a.catalogue.apply_catalogue(&version(2, 6)).await;
    assert!(
        matches!(twice, Err(ports::StoreError::Conflict(_))),
        "{twice:?}"
    );
    a.catalogue.apply_catalogue(&version(3, 7)).await.unwrap();
    let current = a.catalogue.current_catalogue().await.unwrap().unwrap();
    assert_eq!(current, version(3, 7));
    let history = a.catalogue.catalogue_history().await.unwrap();
    assert_eq!(history, vec![version(2, 5), version(3, 7)]);
}

/// Each clause of the contract, once for each adapter set.
macro_rules! contract {
    ($($clause:ident),* $(,)?) => {
        mod embedded_adapters {
            $(
                #[tokio::test]
                async fn $clause() {
                    let (_dir, a) = super::embedded();
                    super::$clause(&a, "E").await;
                }
            )*
        }
        mod aws_adapters_on_moto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $clause() {
                    let (_moto, a) = super::on_moto().await;
                    super::$clause(&a, "A").await;
                }
            )*
        }
    };
}

contract!(
    cases_are_created_once_per_idempotency_key_and_change_only_on_their_version,
    a_message_committed_with_a_case_is_delivered,
    a_newborn_has_one_live_case_until_the_case_ends,
    of_concurrent_cases_for_one_newborn_exactly_one_is_created,
    a_failing_message_is_received_five_times_then_dead_lettered_and_can_be_redriven,
    each_owner_gets_one_number_and_no_two_owners_share_one,
    numbers_reserved_for_a_commit_are_taken_by_that_commit_alone,
    numbers_that_may_go_unused_are_never_shared,
    a_newborns_number_from_a_block_is_kept_for_it,
    a_notification_is_recorded_once_per_sequence,
    the_daily_caps_hold_a_familys_messages_for_one_summary,
    blobs_round_trip_archives_are_write_once_and_uploads_get_a_url,
    a_post_answer_is_kept_under_its_idempotency_key,
    cases_with_feedback_are_found_for_the_department,
    the_aggregates_follow_every_commit_and_rows_page_once,
    a_slot_is_never_overbooked_and_cancelling_frees_it,
    catalogue_versions_are_taken_in_turn_and_kept,
);

/// The stream relay on DynamoDB: a commit's messages ride in the case item and are sent
/// from the table's stream; a send that fails is retried from that change, and nothing
/// before it is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_messages_are_relayed_from_the_stream_again_from_a_failed_send() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("relay");
    let full = aws::Resources::from_outputs(&outputs).unwrap();
    let mut partial = full.clone();
    partial.queues.remove("archive");
    let config = m.sdk_config().await;
    let broken = aws::Aws::new(&config, &partial, 5);
    let good = aws::Aws::new(&config, &full, 5);
    let out = |id: &str, q: &str| OutMessage {
        queue: q.into(),
        body: format!(r#"{{"kind":"archive","case_id":"{id}","q":"{q}"}}"#),
    };
    // Two cases: the first's messages go out, the second's first send fails.
    let first = a_case("BCRELAY1", crate::helpers::FATHER_A);
    good.store
        .create(&first, "relay", &[out("BCRELAY1", "notify")])
        .await
        .unwrap();
    let second = a_case("BCRELAY2", crate::helpers::FATHER_A);
    good.store
        .create(
            &second,
            "relay",
            &[out("BCRELAY2", "archive"), out("BCRELAY2", "notify")],
        )
        .await
        .unwrap();
    let mut reader = good.stream_reader();
    let mut changes = vec![];
    for _ in 0..50 {
        changes.extend(reader.next().await.unwrap());
        if changes.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(changes.len(), 2, "one change per commit");
    let (failed_at, _) = aws::stream::relay(broken.queues.as_ref(), &changes)
        .await
        .unwrap_err();
    let from = changes
        .iter()
        .position(|c| c.sequence == failed_at)
        .unwrap();
    assert_eq!(from, 1, "the second change failed");
    let sent = aws::stream::relay(good.queues.as_ref(), &changes[from..])
        .await
        .unwrap();
    assert_eq!(sent, 2);
    let receive = |q: &'static str| {
        let queues = good.queues.clone();
        async move {
            ports::QueueConsumer::receive(queues.as_ref(), q, 10, Duration::from_secs(1))
                .await
                .unwrap()
        }
    };
    let notify = receive("notify").await;
    let mut bodies: Vec<&str> = notify.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies.len(), 2, "each notify message once: {bodies:?}");
    assert!(bodies[0].contains("BCRELAY1") && bodies[1].contains("BCRELAY2"));
    assert_eq!(receive("archive").await.len(), 1);
}
