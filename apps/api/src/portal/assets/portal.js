// The partner portal's only script: progressive enhancement. Every page works without it.
(function () {
  'use strict';

  // Times in the browser's own time zone; the ISO value stays in the title (shown on hover).
  var format = new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  document.querySelectorAll('time[datetime]').forEach(function (element) {
    var date = new Date(element.getAttribute('datetime'));
    if (!isNaN(date.getTime())) element.textContent = format.format(date);
  });

  // Destructive buttons ask first.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });

  // A delivery still on its way: look again shortly.
  var refresh = Number(document.body.getAttribute('data-refresh'));
  if (refresh > 0)
    window.setTimeout(function () {
      window.location.reload();
    }, refresh * 1000);

  // Signing in from a link opened in another site: continue from our own origin.
  var follow = document.querySelector('a[data-auto-follow]');
  if (follow) window.location.replace(follow.href);
})();
