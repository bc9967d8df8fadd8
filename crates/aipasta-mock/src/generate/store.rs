//! The scripts waiting per path, the defaults, and the Hugging Face task of each model.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::Deserialize;

use super::hf::HfTask;
use super::script::Script;

pub(crate) struct Scripts {
    /// Consumed one per request, oldest first.
    queues: HashMap<String, VecDeque<Script>>,
    /// When a path's queue is empty.
    defaults: HashMap<String, Arc<Script>>,
    /// When a path has neither.
    fallback: Arc<Script>,
    /// From the Hub models body, parsed once per change.
    hub_tags: HubTags,
    /// Set by the test; wins over the Hub list.
    task_overrides: HashMap<String, HfTask>,
}

/// `pipeline_tag` by model id, from a Hub models body.
#[derive(Debug, Default)]
pub(crate) struct HubTags(HashMap<String, Option<String>>);

impl HubTags {
    /// Reads the models' tags; a body that is not a JSON array of models (set on purpose by a
    /// test) knows no model.
    pub(crate) fn parse(body: &[u8]) -> HubTags {
        HubTags(
            serde_json::from_slice::<Vec<HubModel>>(body)
                .map(|models| {
                    models
                        .into_iter()
                        .map(|model| (model.id, model.pipeline_tag))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }
}

/// The Hub fields the task lookup needs.
#[derive(Deserialize)]
struct HubModel {
    id: String,
    #[serde(default)]
    pipeline_tag: Option<String>,
}

impl Scripts {
    pub(crate) fn new(hub_models: &[u8]) -> Scripts {
        Scripts {
            queues: HashMap::new(),
            defaults: HashMap::new(),
            fallback: Arc::new(Script::default()),
            hub_tags: HubTags::parse(hub_models),
            task_overrides: HashMap::new(),
        }
    }

    /// The script for the next request on `path`.
    pub(crate) fn take(&mut self, path: &str) -> Arc<Script> {
        if !self.queues.is_empty()
            && let Some(queue) = self.queues.get_mut(path)
            && let Some(script) = queue.pop_front()
        {
            if queue.is_empty() {
                self.queues.remove(path);
            }
            return Arc::new(script);
        }
        self.defaults.get(path).unwrap_or(&self.fallback).clone()
    }

    pub(crate) fn push(&mut self, path: &str, script: Script) {
        self.queues
            .entry(path.to_owned())
            .or_default()
            .push_back(script);
    }

    pub(crate) fn queued(&self, path: &str) -> usize {
        self.queues.get(path).map_or(0, VecDeque::len)
    }

    pub(crate) fn set_default(&mut self, path: &str, script: Script) {
        self.defaults.insert(path.to_owned(), Arc::new(script));
    }

    pub(crate) fn clear(&mut self, path: &str) {
        self.queues.remove(path);
        self.defaults.remove(path);
    }

    pub(crate) fn set_fallback(&mut self, script: Script) {
        self.fallback = Arc::new(script);
    }

    pub(crate) fn set_hub_tags(&mut self, tags: HubTags) {
        self.hub_tags = tags;
    }

    pub(crate) fn set_task(&mut self, model: &str, task: HfTask) {
        self.task_overrides.insert(model.to_owned(), task);
    }

    /// The model's task: the override, else its Hub tag, else (unknown model) text generation.
    /// `Err` carries a Hub tag the mock does not serve.
    pub(crate) fn hf_task(&self, model: &str) -> Result<HfTask, String> {
        if let Some(task) = self.task_overrides.get(model) {
            return Ok(*task);
        }
        match self.hub_tags.0.get(model) {
            None | Some(None) => Ok(HfTask::TextGeneration),
            Some(Some(tag)) => HfTask::from_pipeline_tag(tag).ok_or_else(|| tag.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::script::Outcome;

    #[test]
    fn queue_first_then_default_then_fallback() {
        let mut scripts = Scripts::new(b"[]");
        scripts.push("/a", Script::status(429));
        scripts.set_default("/a", Script::text("default"));
        assert!(matches!(
            scripts.take("/a").outcome,
            Outcome::Status { status: 429, .. }
        ));
        assert_eq!(scripts.take("/a").text, "default");
        assert_eq!(scripts.take("/a").text, "default");
        assert_eq!(*scripts.take("/b"), Script::default());
        scripts.set_fallback(Script::text("everywhere"));
        assert_eq!(scripts.take("/b").text, "everywhere");
    }

    #[test]
    fn tasks_come_from_the_hub_list_and_overrides() {
        let mut scripts = Scripts::new(
            br#"[{"id":"a/img","pipeline_tag":"text-to-image"},{"id":"a/asr","pipeline_tag":"automatic-speech-recognition"},{"id":"a/none"}]"#,
        );
        assert_eq!(scripts.hf_task("a/img"), Ok(HfTask::TextToImage));
        assert_eq!(scripts.hf_task("a/none"), Ok(HfTask::TextGeneration));
        assert_eq!(scripts.hf_task("nobody/knows"), Ok(HfTask::TextGeneration));
        assert_eq!(
            scripts.hf_task("a/asr"),
            Err("automatic-speech-recognition".to_owned())
        );
        scripts.set_task("a/img", HfTask::Summarization);
        assert_eq!(scripts.hf_task("a/img"), Ok(HfTask::Summarization));
    }
}
