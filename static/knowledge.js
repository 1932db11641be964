// Intake form: the knowledge-base articles that match the description, while it is typed.
// "Answer with this" fills the direct answer with the article's answer (the operator may
// still edit it), makes the call a consultation, files it under the article's category if none
// is chosen yet and cites the article (hidden article_id),
// so that submitting closes the ticket as a direct answer. Without this script the form
// works as before. Plain JS, no inline script.
(function () {
  "use strict";
  var panel = document.getElementById("knowledge-suggestions");
  var description = document.getElementById("description");
  var category = document.getElementById("category");
  var type = document.getElementById("type");
  var answer = document.getElementById("direct_answer");
  var articleId = document.getElementById("article_id");
  var citation = document.getElementById("article-citation");
  var citationLink = document.getElementById("article-citation-link");
  var clear = document.getElementById("article-citation-clear");
  if (!panel || !description || !answer || !articleId) { return; }

  var QUERY_MAX = 1000; // the start of a long description says what the call is about
  var timer = null;
  var latest = 0;

  var element = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  };

  var message = function (text) {
    panel.replaceChildren(element("p", "text-body-secondary small mb-0", text));
  };

  var cite = function (id, question, url) {
    articleId.value = id ? String(id) : "";
    if (!citation) { return; }
    citation.hidden = !id;
    if (id && citationLink) {
      citationLink.textContent = question || ("#" + id);
      citationLink.href = url || (panel.dataset.articles + id);
    }
  };

  var use = function (article) {
    if (type && type.value !== "consultation") {
      type.value = "consultation";
      type.dispatchEvent(new Event("change")); // intake.js shows the direct answer field
    }
    // A direct answer needs a category: the article's, unless the operator chose one already.
    if (category && !category.value && article.category) {
      category.value = article.category;
      category.dispatchEvent(new Event("change", { bubbles: true })); // the picker shows its path
    }
    answer.value = article.answer;
    var group = document.getElementById("direct-answer-group");
    if (group) { group.hidden = false; }
    cite(article.id, article.question, article.url);
    answer.focus();
  };

  var show = function (result) {
    if (!result.searched) { message(panel.dataset.idle); return; }
    if (!result.articles.length) { message(panel.dataset.none); return; }
    var list = element("ul", "list-unstyled small mb-0 knowledge-list");
    result.articles.forEach(function (article) {
      var item = element("li", "border-top py-2 knowledge-suggestion");
      item.dataset.article = article.id;
      var link = element("a", "fw-semibold", article.question);
      link.href = article.url;
      link.target = "_blank";
      link.rel = "noopener";
      var button = element("button", "btn btn-sm btn-outline-success mt-1 answer-with", panel.dataset.use);
      button.type = "button";
      button.addEventListener("click", function () { use(article); });
      item.append(
        link,
        element("div", "text-success-emphasis matched", panel.dataset.matched + " " + article.matched.join(" · ")),
        element("div", "excerpt", article.excerpt),
        element("div", "text-body-secondary", article.department),
        button
      );
      list.append(item);
    });
    panel.replaceChildren(list);
  };

  var search = function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var request = ++latest;
      var text = description.value.trim().slice(0, QUERY_MAX);
      if (!text) { message(panel.dataset.idle); return; }
      var url = panel.dataset.url + "?q=" + encodeURIComponent(text) +
        "&category=" + encodeURIComponent(category ? category.value : "");
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch", "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (result !== null && request === latest) { show(result); }
        })
        .catch(function () { /* suggestions are a help, not a must: keep what is shown */ });
    }, 450);
  };

  description.addEventListener("input", search);
  if (category) { category.addEventListener("change", search); }
  // An emptied answer cites nothing; "do not cite" keeps the text but drops the article.
  answer.addEventListener("input", function () { if (!answer.value.trim()) { cite(null); } });
  if (clear) { clear.addEventListener("click", function () { cite(null); }); }
  // A form shown again after an error keeps what was typed and the article it cited.
  if (articleId.value) { cite(articleId.value); }
  if (description.value.trim()) { search(); }
})();
