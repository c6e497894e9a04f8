//! [`DynamoAllocator`]: numbers that are never handed out twice.

use super::*;

pub struct DynamoAllocator {
    client: Client,
    table: String,
    usage: Arc<Usage>,
    /// Numbers that may go unused, taken ahead per namespace: the next and the last of
    /// this process's block.
    blocks: tokio::sync::Mutex<HashMap<String, (u64, u64)>>,
    block_size: u64,
}

/// How many numbers that may go unused a process takes at a time: one counter write per
/// this many parcels, pick-up codes or cards instead of one in every case's transaction
/// (the parcels' counter is the province's: every case wrote it). A process that ends
/// leaves the rest of its block unused.
pub const BLOCK_SIZE: u64 = 20;

impl DynamoAllocator {
    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoAllocator {
            client,
            table,
            usage,
            blocks: Default::default(),
            block_size: BLOCK_SIZE,
        }
    }

    /// The next number of `ns` from this process's block, taking a new block (one
    /// atomic counter update, outside any transaction) when it is used up.
    async fn next_in_block(&self, ns: &str, max: u64) -> Result<u64, AllocError> {
        let mut blocks = self.blocks.lock().await;
        if let Some((next, last)) = blocks.get_mut(ns) {
            if *next <= *last {
                *next += 1;
                return Ok(*next - 1);
            }
        }
        self.usage.add(Op::DdbWriteUnits, 1);
        let r = self
            .c(Op::DdbUpdateItem)
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(ns)))
            .update_expression("ADD #l :n")
            .expression_attribute_names("#l", "last")
            .expression_attribute_values(":n", n(self.block_size))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_err("take a block of numbers", e))?;
        let last: u64 = r
            .attributes()
            .and_then(|a| a.get("last"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("counter {ns} without its value")))?;
        let first = last + 1 - self.block_size;
        if first > max {
            return Err(AllocError::Exhausted(ns.to_string()));
        }
        blocks.insert(ns.to_string(), (first + 1, last.min(max)));
        Ok(first)
    }
}

impl DynamoAllocator {
    /// The owners and counters `asks` name (a number from a block reads no counter),
    /// read in one consistent `BatchGetItem` (and its unprocessed keys again).
    async fn read_allocations(&self, asks: &[ports::NumberAsk]) -> Result<Vec<Item>, AllocError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut keys: Vec<Item> = vec![];
        for a in asks {
            // A number from a block moves no counter in the commit: its counter is not read.
            let counter = (!a.from_block).then(|| counter_key(&a.namespace));
            for k in std::iter::once(owner_key(&a.namespace, &a.owner)).chain(counter) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let mut found: Vec<Item> = vec![];
        let mut ask = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| sdk_err("batch get", e))?,
        );
        while let Some(k) = ask.take() {
            let r = self
                .c(Op::DdbBatchGet)
                .batch_get_item()
                .request_items(&self.table, k)
                .send()
                .await
                .map_err(|e| sdk_err("batch get allocations", e))?;
            let items = r
                .responses()
                .and_then(|m| m.get(&self.table))
                .cloned()
                .unwrap_or_default();
            bill_read(&self.usage, &items, true);
            found.extend(items);
            ask = r
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
        Ok(found)
    }

    /// Read every owner and counter the asks name in one consistent `BatchGetItem`;
    /// owners that hold a number keep it, the others take the next ones. Returns the
    /// numbers and the writes that take them: each counter moved from the value read
    /// (conditional), each new lasting owner written (conditional on none).
    async fn plan(&self, asks: &[ports::NumberAsk]) -> Result<ports::Reserved, AllocError> {
        let found = self.read_allocations(asks).await?;
        let num = |k: &Item, attr: &str| -> Option<u64> {
            found
                .iter()
                .find(|i| i.get("pk") == k.get("pk") && i.get("sk") == k.get("sk"))
                .and_then(|i| i.get(attr))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
        };
        let mut counters: Vec<(String, u64, u64)> = vec![]; // (ns, read, next)
        let mut taken: Vec<(&ports::NumberAsk, u64)> = vec![];
        let mut numbers = vec![];
        for a in asks {
            let (ns, owner) = (&a.namespace, &a.owner);
            if let Some(o) = num(&owner_key(ns, owner), "ordinal").or_else(|| {
                taken
                    .iter()
                    .find(|(t, _)| &t.namespace == ns && &t.owner == owner)
                    .map(|x| x.1)
            }) {
                numbers.push(o);
                continue;
            }
            if a.from_block {
                // From this process's block: only the owner record goes into the commit
                // (a lost race for the same owner is that commit's conflict; the number
                // drawn is then a gap).
                let next = self.next_in_block(ns, a.max).await?;
                taken.push((a, next));
                numbers.push(next);
                continue;
            }
            let at = match counters.iter().position(|c| &c.0 == ns) {
                Some(i) => i,
                None => {
                    let last = num(&counter_key(ns), "last").unwrap_or(0);
                    counters.push((ns.clone(), last, last));
                    counters.len() - 1
                }
            };
            counters[at].2 += 1;
            let next = counters[at].2;
            if next > a.max {
                return Err(AllocError::Exhausted(ns.clone()));
            }
            taken.push((a, next));
            numbers.push(next);
        }
        let mut takes: Vec<NumberTake> = counters
            .into_iter()
            .map(|(namespace, from, to)| NumberTake::Counter {
                namespace,
                from,
                to,
            })
            .collect();
        for (a, ordinal) in taken {
            if a.lasting {
                takes.push(NumberTake::Owner {
                    namespace: a.namespace.clone(),
                    owner: a.owner.clone(),
                    ordinal,
                });
            }
        }
        Ok(ports::Reserved { numbers, takes })
    }
}

#[async_trait]
impl Allocator for DynamoAllocator {
    /// One number: [`Allocator::allocate_many`] with one request.
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError> {
        let got = self
            .allocate_many(&[(namespace.to_string(), owner.to_string(), max)])
            .await?;
        Ok(got[0])
    }

    /// A step's numbers in two requests: [`DynamoAllocator::plan`]'s read, then one
    /// transaction of its writes. A lost race starts again; the same owner still never
    /// gets two numbers, two owners never one.
    async fn allocate_many(
        &self,
        requests: &[(String, String, u64)],
    ) -> Result<Vec<u64>, AllocError> {
        let asks: Vec<ports::NumberAsk> = requests
            .iter()
            .map(|(ns, owner, max)| ports::NumberAsk {
                namespace: ns.clone(),
                owner: owner.clone(),
                max: *max,
                lasting: true,
                from_block: false,
            })
            .collect();
        if asks.len() > 50 {
            // More than one BatchGetItem holds: in parts (each still all-or-nothing).
            let mut out = vec![];
            for part in requests.chunks(50) {
                out.extend(Box::pin(self.allocate_many(part)).await?);
            }
            return Ok(out);
        }
        for _ in 0..50 {
            let planned = self.plan(&asks).await?;
            if planned.takes.is_empty() {
                return Ok(planned.numbers);
            }
            match transact(
                &self.client,
                &self.usage,
                take_items(&self.table, &planned.takes)?,
            )
            .await
            {
                Ok(()) => return Ok(planned.numbers),
                Err(TxError::Conditions(_)) => continue,
                Err(TxError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("allocations kept conflicting".into()).into())
    }

    /// One request: the plan's read; its writes go into the step's own commit
    /// ([`DynamoStore::commit`]). Numbers that may go unused come from this process's
    /// block instead, with nothing to write.
    async fn reserve(&self, asks: &[ports::NumberAsk]) -> Result<ports::Reserved, AllocError> {
        if asks.len() > 50 {
            return Err(StoreError::Unavailable(format!(
                "{} numbers asked for one commit; at most 50",
                asks.len()
            ))
            .into());
        }
        // Numbers of the case's own things from the block at once; everything with an
        // owner record (held numbers, lasting owners) through the plan's read.
        let (blocked, planned): (Vec<_>, Vec<_>) =
            asks.iter().partition(|a| a.from_block && !a.lasting);
        let mut reserved = if planned.is_empty() {
            ports::Reserved::default()
        } else {
            let planned: Vec<ports::NumberAsk> = planned.into_iter().cloned().collect();
            self.plan(&planned).await?
        };
        if blocked.is_empty() {
            return Ok(reserved);
        }
        // Back in the order asked.
        let mut from_plan = reserved.numbers.into_iter();
        let mut numbers = vec![];
        for a in asks {
            numbers.push(if a.from_block && !a.lasting {
                self.next_in_block(&a.namespace, a.max).await?
            } else {
                from_plan
                    .next()
                    .expect("one planned number per planned ask")
            });
        }
        reserved.numbers = numbers;
        Ok(reserved)
    }
}

pub(super) fn alloc_key(pk: String, sk: String) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

pub(super) fn owner_key(ns: &str, owner: &str) -> Item {
    alloc_key(format!("ALLOC#{ns}"), format!("OWNER#{owner}"))
}

pub(super) fn counter_key(ns: &str) -> Item {
    alloc_key(format!("ALLOC#{ns}"), "COUNTER".into())
}

/// The transaction items that take reserved numbers: each counter moved if still at the
/// value read, each lasting owner written if it holds none.
pub(super) fn take_items(
    table: &str,
    takes: &[NumberTake],
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let mut items = vec![];
    for t in takes {
        match t {
            NumberTake::Counter {
                namespace,
                from,
                to,
            } => {
                let mut u = Update::builder()
                    .table_name(table)
                    .set_key(Some(counter_key(namespace)))
                    .update_expression("SET #l = :next")
                    .expression_attribute_names("#l", "last")
                    .expression_attribute_values(":next", n(to));
                u = if *from == 0 {
                    u.condition_expression("attribute_not_exists(#l)")
                } else {
                    u.condition_expression("#l = :last")
                        .expression_attribute_values(":last", n(from))
                };
                items.push(
                    TransactWriteItem::builder()
                        .update(u.build().map_err(|e| sdk_err("update", e))?)
                        .build(),
                );
            }
            NumberTake::Owner {
                namespace,
                owner,
                ordinal,
            } => {
                let mut mine = owner_key(namespace, owner);
                mine.insert("ordinal".into(), n(ordinal));
                items.push(put(
                    table,
                    mine,
                    Some(("attribute_not_exists(pk)", vec![])),
                )?);
            }
        }
    }
    Ok(items)
}
