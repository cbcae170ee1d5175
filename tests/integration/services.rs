//! Round trips through each real test service, so a broken service setup
//! fails here first and plainly.

use crate::support::service;
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn postgres_round_trip() {
    let (client, conn) = tokio_postgres::connect(&service("WEIR_TEST_PG_URL"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute("DROP TABLE IF EXISTS weir_rt; CREATE TABLE weir_rt (k int primary key, v text)").await.unwrap();
    client.execute("INSERT INTO weir_rt VALUES ($1, $2)", &[&7i32, &"seven"]).await.unwrap();
    let row = client.query_one("SELECT v FROM weir_rt WHERE k = $1", &[&7i32]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "seven");
    let version: String = client.query_one("SHOW server_version", &[]).await.unwrap().get(0);
    assert!(version.starts_with("15."), "PostgreSQL 15 expected, got {version}");
}

#[tokio::test]
async fn redis_round_trip() {
    let mut con = crate::support::redis_connection(&service("WEIR_TEST_REDIS_URL")).await;
    let _: () = redis::cmd("SET").arg("weir:rt").arg("v1").query_async(&mut con).await.unwrap();
    let v: String = redis::cmd("GET").arg("weir:rt").query_async(&mut con).await.unwrap();
    assert_eq!(v, "v1");
    let info: String = redis::cmd("INFO").arg("server").query_async(&mut con).await.unwrap();
    assert!(info.contains("redis_version:7."), "Redis 7 expected: {info}");
}

#[tokio::test]
async fn kafka_round_trip_three_partitions_and_a_consumer_group() {
    let brokers = service("WEIR_TEST_KAFKA");
    let topic = format!("weir-rt-{}", std::process::id());
    let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    let res = admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap();
    res.into_iter().for_each(|r| {
        r.unwrap();
    });
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    for i in 0..30 {
        let payload = format!("{{\"seq\":{i}}}");
        producer
            .send(FutureRecord::to(&topic).partition(i % 3).key(&i.to_string()).payload(&payload), Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("weir-rt-group-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let mut seen = BTreeSet::new();
    let mut partitions = BTreeSet::new();
    let mut stream = consumer.stream();
    while seen.len() < 30 {
        let msg = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.expect("messages within 30 s").unwrap().unwrap();
        partitions.insert(msg.partition());
        let v: serde_json::Value = serde_json::from_slice(msg.payload().unwrap()).unwrap();
        seen.insert(v["seq"].as_i64().unwrap());
    }
    assert_eq!(seen, (0..30).collect());
    assert_eq!(partitions, BTreeSet::from([0, 1, 2]));
}

#[tokio::test]
async fn s3_put_list_and_read_back() {
    let endpoint = service("WEIR_TEST_S3_ENDPOINT");
    let bucket = format!("weir-rt-{}", std::process::id());
    // moto creates buckets with a plain PUT.
    let status = std::process::Command::new("curl").args(["-sf", "-X", "PUT", &format!("{endpoint}/{bucket}")]).status().unwrap();
    assert!(status.success(), "create bucket");
    let store = crate::support::moto_store(&endpoint, &bucket);
    let path = object_store::path::Path::from("dt=2026-01-01/part-0.json");
    store.put(&path, "hello".into()).await.unwrap();
    let listed: Vec<_> = store.list(None).map(|m| m.unwrap().location.to_string()).collect().await;
    assert_eq!(listed, vec!["dt=2026-01-01/part-0.json".to_string()]);
    let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], b"hello");
}
