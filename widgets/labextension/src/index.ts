/**
 * matterhub-lab: the MatterHub panel in JupyterLab's left sidebar.
 *
 * The panel talks to MatterHub's Jupyter server extension (`hub.widgets.jupyterlab`);
 * its "Insert code" buttons put a cell into the active notebook, or into a new one
 * when no notebook is open.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { MatterHubPanel } from './panel';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="12" cy="5" r="2.6"/><circle cx="5" cy="17" r="2.6"/><circle cx="19" cy="17" r="2.6"/>
    <path d="M11.2 7.2 6 14.6l1.4 1 5.2-7.4zm1.6 0-1.4 1 5.2 7.4 1.4-1zM7.6 16.3h8.8v1.7H7.6z"/>
  </g>
</svg>`;

export const matterhubIcon = new LabIcon({ name: 'matterhub-lab:icon', svgstr: ICON_SVG });

namespace CommandIDs {
  export const open = 'matterhub:open';
}

/**
 * Put `code` into the active notebook: into its active cell when that is an empty code
 * cell (a new notebook's first cell), else into a new cell below it.
 */
async function insertCode(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  code: string
): Promise<void> {
  let panel: NotebookPanel | null = tracker.currentWidget;
  if (!panel) {
    panel = (await app.commands.execute('notebook:create-new', {})) as NotebookPanel;
  }
  await panel.context.ready;
  const notebook = panel.content;
  const active = notebook.activeCell;
  const empty =
    active !== null &&
    active !== undefined &&
    active.model.type === 'code' &&
    active.model.sharedModel.getSource().trim() === '';
  if (!empty) {
    NotebookActions.insertBelow(notebook);
  }
  const cell = notebook.activeCell;
  if (!cell) {
    throw new Error('the notebook has no active cell to put the code in');
  }
  cell.model.sharedModel.setSource(code);
  notebook.mode = 'command';
  app.shell.activateById(panel.id);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'matterhub-lab:plugin',
  description: 'The MatterHub panel: search the hub beside your notebooks and insert code.',
  autoStart: true,
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const inserter = tracker ? (code: string) => insertCode(app, tracker, code) : null;
    const panel = new MatterHubPanel(inserter);
    panel.title.icon = matterhubIcon;
    app.shell.add(panel, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(panel, 'matterhub-panel');
    }
    app.commands.addCommand(CommandIDs.open, {
      label: 'Open the MatterHub panel',
      icon: matterhubIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.open, category: 'MatterHub' });
    }
    void app.restored.then(() => panel.start());
  }
};

export default plugin;
