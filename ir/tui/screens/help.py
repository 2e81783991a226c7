"""Help: the keys of the screen it was opened from, and how the app works."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown

from ir.tui.labels import tr

GUIDE = """\
**How ir works.** Every action is recorded the moment you take it, in the workspace's
tamper-evident log; other people (and `ir` commands) on the same workspace see it within
seconds. A step taken on a screen that has changed meanwhile is refused: look again, then act.

**Incident view.** Work the current phase: tick tasks (space), answer decisions (pick a
value, or type and press Enter; the *why* box under each records your rationale with the
answer), then take the next step (Enter on it). A blocked step says what blocks it. `[` and
`]` (or 1–9) switch panes: Work, Timeline (notes with `n`), Obligations (fulfil with `f`,
waive with `w`), Report (`c` switches to the compliance report) and, for a drill, Drill.
`o` gives a role to a person.

**Drills.** `d` on the dashboard starts a scenario as a drill, marked EXERCISE wherever it
shows. While its view is open the app delivers each inject when its time comes. The Drill
pane pauses and resumes (`p`), changes the speed (`s`), skips to the next inject (`>`), ends
the drill (`e`), takes hot-wash notes (`h`) and discussion answers (`d`).

**Everywhere.** ctrl+p opens the command palette; ? shows this help; ctrl+q quits.
"""

GUIDE_ZH_CN = """\
**ir 如何工作。** 每个操作在执行的那一刻就记入工作区防篡改的日志；在同一工作区的其他人（以及 `ir` 命令）
几秒内就能看到。若页面显示的内容在你操作前已被他人更改，操作会被拒绝：请重新查看后再操作。

**事件页面。** 处理当前阶段：勾选任务（空格），回答决策（选择一个值，或输入后按回车；每个决策下的“理由”框会把
你的理由与回答一并记录），然后执行下一步（在步骤上按回车）。受阻的步骤会说明受阻原因。`[` 和 `]`（或 1–9）
切换窗格：处置、时间线（按 `n` 写备注）、通知义务（按 `f` 记录履行，按 `w` 决定不通知）、报告（按 `c`
切换到合规报告），演练还有“演练”窗格。按 `o` 为人员指定角色。

**演练。** 在事件列表按 `d` 选择场景开始演练，演练在所有页面都标有 EXERCISE。演练页面打开期间，ir 会在每条
注入到时送达。“演练”窗格可暂停和继续（`p`）、调整速度（`s`）、跳到下一条注入（`>`）、结束演练（`e`）、
记录即时复盘（`h`）和讨论回答（`d`）。

**任何页面。** ctrl+p 打开命令面板；? 显示本帮助；ctrl+q 退出。
"""

GUIDES = {"en": GUIDE, "zh-CN": GUIDE_ZH_CN}
"""The guide above the key table, by display language."""


def key_table(bindings: dict[str, ActiveBinding], lang: str = "en") -> str:
    """The bindings as a Markdown table, one row per action."""
    seen: dict[str, list[str]] = {}
    for key, active in bindings.items():
        binding = active.binding
        label = tr(binding.description, lang) if binding.description else binding.action
        display = binding.key_display or key
        keys = seen.setdefault(label, [])
        if display not in keys:
            keys.append(display)
    rows = [f"| {', '.join(f'`{k}`' for k in keys)} | {label} |" for label, keys in seen.items()]
    return f"| {tr('Key', lang)} | {tr('Does', lang)} |\n|---|---|\n" + "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    """Keys of the screen underneath, and a short guide.

    Args:
        bindings: the active bindings of the screen it was opened from.
        lang: display language.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "close", "Close")]
    """Any of these closes help."""

    def __init__(self, bindings: dict[str, ActiveBinding], lang: str = "en") -> None:
        super().__init__()
        self.bindings = bindings
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(tr("Help — Escape closes", self.lang), id="dialog-title")
            with VerticalScroll(id="dialog-scroll"):
                guide = GUIDES.get(self.lang, GUIDE)
                yield Markdown(guide + "\n" + key_table(self.bindings, self.lang), id="help-text")

    def action_close(self) -> None:
        """Back to where help was opened."""
        self.dismiss(None)
