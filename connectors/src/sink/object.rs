//! The object-store sink (`connector = 's3'`): Parquet files under a path on
//! S3 or any S3-compatible endpoint (`s3://bucket/prefix/`), or on the local
//! disk (`file:///dir/` or an absolute path). Rows are buffered per event-time
//! partition (`partition_by` column: `dt=YYYY-MM-DD/hour=HH/`) and written
//! as one file per partition when `rollover` has passed or the buffer
//! reaches `max_file_size`. A file is written with a single PUT (on the
//! local disk: a temporary file renamed into place), so a reader never sees
//! a partial file.
//!
//! Exactly once: files are named by the epochs they hold
//! (`part-<sink>-<first epoch>-<last epoch>-<n>.parquet`), and once a roll's
//! files are in place a manifest `_weir/<sink>/<last epoch>.json` listing
//! them is written last. The newest manifest is the sink's durable epoch; at
//! open, files of the sink that no manifest lists (a roll a crash cut short)
//! are deleted, and the server delivers those epochs again.

use super::{Changes, Sink, SinkInput, column_indexes, require_append_only};
use crate::{ConnectorError, HostAccess, Options, Result};
use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sink's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectOptions {
    path: String,
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    format: Option<String>,
    partition_by: Option<String>,
    rollover: Option<crate::options::Dur>,
    max_file_size: Option<usize>,
}
const DEFAULT_ROLLOVER: Duration = Duration::from_secs(60);
const DEFAULT_MAX_FILE_SIZE: usize = 128 << 20;
/// Files of rows whose partition column is NULL.
const NULL_PARTITION: &str = "dt=__HIVE_DEFAULT_PARTITION__/hour=__HIVE_DEFAULT_PARTITION__";

pub struct ObjectSink {
    store: Arc<dyn ObjectStore>,
    /// Shown in errors: the path option as written (no secrets in it).
    location: String,
    prefix: Path,
    partition: Option<usize>,
    rollover: Duration,
    max_bytes: usize,
    /// The schema files are written with (nanosecond timestamps as microseconds, which every reader takes).
    file_schema: SchemaRef,
    /// Rows not yet in a file, per partition directory.
    buffers: BTreeMap<String, Vec<RecordBatch>>,
    buffered_bytes: usize,
    since: Option<Instant>,
    /// The newest epoch whose rows are buffered (a retried epoch is not buffered twice).
    buffered_epoch: u64,
    /// The newest epoch in files listed by a manifest.
    durable: u64,
    sink: String,
    buffered_rows: u64,
    /// Rows in files a manifest lists.
    delivered: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    first_epoch: u64,
    last_epoch: u64,
    files: Vec<String>,
}

fn store_error(location: &str, e: object_store::Error) -> ConnectorError {
    match e {
        object_store::Error::Generic { source, .. } => ConnectorError::External(format!("object store at {location}: {source}")),
        e => ConnectorError::External(format!("object store at {location}: {e}")),
    }
}

fn file_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, tz) => f.as_ref().clone().with_data_type(DataType::Timestamp(TimeUnit::Microsecond, tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Hour buckets (hours since the epoch) of a timestamp column; None for NULL.
fn hours(col: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let secs = cast(col, &DataType::Timestamp(TimeUnit::Second, None)).map_err(|e| ConnectorError::Internal(e.to_string()))?;
    let secs = cast(&secs, &DataType::Int64).map_err(|e| ConnectorError::Internal(e.to_string()))?;
    let a = secs.as_any().downcast_ref::<arrow::array::Int64Array>().ok_or_else(|| ConnectorError::Internal("hours".into()))?;
    Ok((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).div_euclid(3600))).collect())
}

fn partition_dir(hour: Option<i64>) -> String {
    match hour.and_then(|h| chrono::DateTime::from_timestamp(h * 3600, 0)) {
        Some(t) => t.format("dt=%Y-%m-%d/hour=%H").to_string(),
        None => NULL_PARTITION.into(),
    }
}

/// Where and how to reach an S3 endpoint; empty settings are absent.
struct Credentials {
    endpoint: Option<String>,
    region: String,
    key_id: Option<String>,
    secret: Option<String>,
}

/// The store and the prefix in it for `path`: `s3://bucket/prefix/`, or an
/// absolute local directory under the one the operator allows.
fn store_for(path: &str, c: Credentials, access: &HostAccess) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let Credentials { endpoint, region, key_id, secret } = c;
    if let Some(rest) = path.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ConnectorError::Config("option \"path\": s3://BUCKET/PREFIX/ needs a bucket".into()));
        }
        let keys_given = key_id.is_some() && secret.is_some();
        if !keys_given && !access.env_credentials {
            return Err(ConnectorError::Denied(
                "options \"access_key_id\" and \"secret_access_key\" are required: this server does not lend its own credentials to sinks (its operator may allow it with --allow-env-credentials)"
                    .into(),
            ));
        }
        let builder = if access.env_credentials { AmazonS3Builder::from_env() } else { AmazonS3Builder::new() };
        let mut b = builder.with_bucket_name(bucket).with_region(region).with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..Default::default()
        });
        if let Some(e) = &endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://")).with_virtual_hosted_style_request(false);
        }
        if let Some(k) = key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = secret {
            b = b.with_secret_access_key(s);
        }
        let store = b.build().map_err(|e| ConnectorError::Config(format!("option \"path\": {e}")))?;
        return Ok((Arc::new(store), Path::from(prefix.trim_matches('/'))));
    }
    let dir = path.strip_prefix("file://").unwrap_or(path);
    if !dir.starts_with('/') {
        return Err(ConnectorError::Config(format!("option \"path\": \"{path}\" is neither s3://bucket/prefix/ nor an absolute local path (file:///dir/)")));
    }
    if endpoint.is_some() || key_id.is_some() || secret.is_some() {
        return Err(ConnectorError::Config("options \"endpoint\", \"access_key_id\" and \"secret_access_key\" apply to s3:// paths only".into()));
    }
    let dir = allowed_local_dir(dir, access)?;
    let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| ConnectorError::Config(format!("option \"path\": {e}")))?;
    Ok((Arc::new(store), Path::default()))
}

/// `dir`, made, if it lies under a directory the operator allows (by its
/// real path: checked before it is made, on its nearest existing ancestor,
/// and again after).
fn allowed_local_dir(dir: &str, access: &HostAccess) -> Result<std::path::PathBuf> {
    let denied = |why: String| {
        ConnectorError::Denied(format!(
            "option \"path\": \"{dir}\" {why}: local paths must be under a directory this server's operator allows with --allow-local-path"
        ))
    };
    if access.local_roots.is_empty() {
        return Err(denied("is on the server's own disk, and this server allows no local paths".into()));
    }
    let roots = access.local_roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
    let outside = || denied(format!("is not under {roots}"));
    let wanted = std::path::Path::new(dir);
    if wanted.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(outside());
    }
    let real = |p: &std::path::Path| -> Result<std::path::PathBuf> {
        let existing = p.ancestors().find(|a| a.symlink_metadata().is_ok()).unwrap_or(std::path::Path::new("/"));
        let rest = p.strip_prefix(existing).unwrap_or(std::path::Path::new(""));
        Ok(existing.canonicalize().map_err(|e| ConnectorError::Config(format!("option \"path\": {dir}: {e}")))?.join(rest))
    };
    let inside = |p: &std::path::Path| access.local_roots.iter().any(|r| p.starts_with(r));
    if !inside(&real(wanted)?) {
        return Err(outside());
    }
    std::fs::create_dir_all(wanted).map_err(|e| ConnectorError::Config(format!("option \"path\": cannot create {dir}: {e}")))?;
    let made = real(wanted)?;
    if !inside(&made) {
        return Err(outside());
    }
    Ok(made)
}

impl ObjectSink {
    pub async fn open(options: &Options, input: &SinkInput) -> Result<ObjectSink> {
        let o: ObjectOptions = options.typed("s3")?;
        let path = o.path;
        // An empty value is no value (pipeline files leave unset settings empty).
        let given = |v: Option<String>| v.filter(|v| !v.is_empty());
        let endpoint = given(o.endpoint);
        let region = given(o.region).unwrap_or_else(|| "us-east-1".into());
        let key_id = given(o.access_key_id);
        let secret = given(o.secret_access_key);
        match o.format.as_deref().unwrap_or("parquet") {
            "parquet" => {}
            other => return Err(ConnectorError::Config(format!("option \"format\": the s3 sink writes 'parquet', not \"{other}\""))),
        }
        let partition = match o.partition_by.as_deref() {
            None => None,
            Some(c) => {
                let i = column_indexes(&input.schema, "partition_by", c)?[0];
                if !matches!(input.schema.field(i).data_type(), DataType::Timestamp(..)) {
                    return Err(ConnectorError::Config(format!("option \"partition_by\": column \"{c}\" must be a timestamp")));
                }
                Some(i)
            }
        };
        let rollover = o.rollover.map_or(DEFAULT_ROLLOVER, |d| d.0);
        let max_bytes = o.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);
        require_append_only(input, "s3", "")?;
        let (store, prefix) = store_for(&path, Credentials { endpoint, region, key_id, secret }, &input.access)?;
        // Reachable, and the bucket exists: list the prefix.
        store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| ConnectorError::External(format!("option \"path\": cannot list {path}: {}", store_error(&path, e))))?;
        let durable = recover(&store, &prefix, &input.sink, &path).await?;
        Ok(ObjectSink {
            store,
            location: path,
            prefix,
            partition,
            rollover,
            max_bytes,
            file_schema: file_schema(&input.schema),
            buffers: BTreeMap::new(),
            buffered_bytes: 0,
            since: None,
            buffered_epoch: durable,
            durable,
            sink: input.sink.clone(),
            buffered_rows: 0,
            delivered: 0,
        })
    }

    fn buffer(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = RecordBatch::try_new(
            self.file_schema.clone(),
            batch
                .columns()
                .iter()
                .zip(self.file_schema.fields())
                .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| ConnectorError::Internal(e.to_string()))?,
        )
        .map_err(|e| ConnectorError::Internal(e.to_string()))?;
        // (Slices report their parent's buffers; count only the rows they hold.)
        self.buffered_bytes += batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or(0)).sum::<usize>();
        self.since.get_or_insert_with(Instant::now);
        self.buffered_rows += batch.num_rows() as u64;
        let Some(p) = self.partition else {
            self.buffers.entry(String::new()).or_default().push(batch);
            return Ok(());
        };
        let mut groups: HashMap<Option<i64>, Vec<u32>> = HashMap::new();
        for (i, h) in hours(batch.column(p))?.into_iter().enumerate() {
            groups.entry(h).or_default().push(i as u32);
        }
        for (h, rows) in groups {
            let part = if rows.len() == batch.num_rows() {
                batch.clone()
            } else {
                take_record_batch(&batch, &UInt32Array::from(rows)).map_err(|e| ConnectorError::Internal(e.to_string()))?
            };
            self.buffers.entry(partition_dir(h)).or_default().push(part);
        }
        Ok(())
    }

    /// Writes one file per buffered partition, then the manifest that makes them visible.
    async fn roll(&mut self) -> Result<()> {
        if self.buffered_epoch <= self.durable {
            return Ok(());
        }
        let (first, last) = (self.durable + 1, self.buffered_epoch);
        let mut names = Vec::new();
        for (n, (dir, batches)) in self.buffers.iter().enumerate() {
            let mut bytes = Vec::new();
            let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
            let mut w = ArrowWriter::try_new(&mut bytes, self.file_schema.clone(), Some(props)).map_err(|e| ConnectorError::Internal(e.to_string()))?;
            for b in batches {
                w.write(b).map_err(|e| ConnectorError::Internal(e.to_string()))?;
            }
            w.close().map_err(|e| ConnectorError::Internal(e.to_string()))?;
            let name = format!("part-{}-{first:012}-{last:012}-{n:04}.parquet", self.sink);
            let mut location = self.prefix.clone();
            for segment in dir.split('/').filter(|s| !s.is_empty()).chain([name.as_str()]) {
                location = location.join(segment);
            }
            self.store.put(&location, PutPayload::from(bytes)).await.map_err(|e| store_error(&self.location, e))?;
            names.push(location.to_string());
        }
        let manifest =
            serde_json::to_vec(&Manifest { first_epoch: first, last_epoch: last, files: names }).map_err(|e| ConnectorError::Internal(e.to_string()))?;
        let at = manifest_dir(&self.prefix, &self.sink).join(format!("{last:012}.json"));
        self.store.put(&at, PutPayload::from(manifest)).await.map_err(|e| store_error(&self.location, e))?;
        self.durable = last;
        self.delivered += std::mem::take(&mut self.buffered_rows);
        self.buffers.clear();
        self.buffered_bytes = 0;
        self.since = None;
        Ok(())
    }
}

fn manifest_dir(prefix: &Path, sink: &str) -> Path {
    prefix.clone().join("_weir").join(sink)
}

/// Reads the sink's manifests: deletes its files that none lists (a roll cut
/// short) and returns the newest epoch they cover.
async fn recover(store: &Arc<dyn ObjectStore>, prefix: &Path, sink: &str, location: &str) -> Result<u64> {
    use futures::TryStreamExt;
    let mut listed = std::collections::HashSet::new();
    let mut durable = 0;
    let manifests: Vec<_> = store.list(Some(&manifest_dir(prefix, sink))).try_collect().await.map_err(|e| store_error(location, e))?;
    for m in manifests {
        let bytes = store.get(&m.location).await.map_err(|e| store_error(location, e))?.bytes().await.map_err(|e| store_error(location, e))?;
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes) else { continue };
        durable = durable.max(manifest.last_epoch);
        listed.extend(manifest.files);
    }
    let own = format!("part-{sink}-");
    let files: Vec<_> = store.list(Some(prefix)).try_collect().await.map_err(|e| store_error(location, e))?;
    for f in files {
        let name = f.location.filename().unwrap_or_default();
        if name.starts_with(&own) && name.ends_with(".parquet") && !listed.contains(f.location.as_ref()) {
            store.delete(&f.location).await.map_err(|e| store_error(location, e))?;
        }
    }
    Ok(durable)
}

#[async_trait]
impl Sink for ObjectSink {
    fn last_epoch(&self) -> Option<u64> {
        Some(self.durable)
    }

    fn durable_epoch(&self) -> Option<u64> {
        Some(self.durable)
    }

    async fn write(&mut self, epoch: u64, changes: &Changes) -> Result<()> {
        if epoch > self.buffered_epoch {
            if changes.inserts.num_rows() > 0 {
                self.buffer(&changes.inserts)?;
            }
            self.buffered_epoch = epoch;
        }
        if self.buffered_bytes >= self.max_bytes {
            self.roll().await?;
        }
        Ok(())
    }

    fn rows_delivered(&self) -> u64 {
        self.delivered
    }

    async fn tick(&mut self) -> Result<()> {
        if self.since.is_some_and(|s| s.elapsed() >= self.rollover) {
            self.roll().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.roll().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(r: Result<std::path::PathBuf>) -> String {
        match r {
            Err(ConnectorError::Denied(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// A local path is allowed only under the operator's directory, by its
    /// real path: not without one, not outside, not through `..` or a link.
    #[test]
    fn local_paths_stay_under_the_allowed_directory() {
        let root = std::env::temp_dir().join(format!("weir-allowed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        let access = HostAccess { local_roots: vec![root.clone()], env_credentials: false };
        let inside = root.join("a/b");
        assert_eq!(allowed_local_dir(inside.to_str().unwrap(), &access).unwrap(), inside);
        assert!(inside.is_dir());
        assert!(denied(allowed_local_dir(inside.to_str().unwrap(), &HostAccess::default())).contains("allows no local paths"));
        let outside = root.parent().unwrap().join(format!("weir-outside-{}", std::process::id()));
        assert!(denied(allowed_local_dir(outside.to_str().unwrap(), &access)).contains("is not under"));
        assert!(!outside.exists(), "nothing is made outside");
        assert!(denied(allowed_local_dir(&format!("{}/a/../../x", root.display()), &access)).contains("is not under"));
        std::os::unix::fs::symlink(root.parent().unwrap(), root.join("up")).unwrap();
        assert!(denied(allowed_local_dir(root.join("up/escaped").to_str().unwrap(), &access)).contains("is not under"));
        assert!(!root.parent().unwrap().join("escaped").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
